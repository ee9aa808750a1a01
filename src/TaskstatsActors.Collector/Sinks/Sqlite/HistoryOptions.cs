using System.Globalization;
using Akka.Configuration;
using TaskstatsActors.Collector.Settings;

namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>How the history is written and how long it is kept: the <see cref="SqliteSink"/>'s config block.</summary>
/// <remarks>
/// Keys (each optional): <c>path</c> (default <c>data/taskstats.db</c>), <c>flush-interval</c> (1s),
/// <c>flush-records</c> (10000), <c>synchronous</c> (<c>normal</c> | <c>full</c>), <c>windows</c> (on),
/// <c>retention.max-age</c> (30d; 0 or off keeps everything), <c>retention.max-size</c> (1 GiB; 0 or off),
/// <c>retention.check-interval</c> (1m).
/// </remarks>
public sealed record HistoryOptions
{
    /// <summary>The default database file, relative to the working directory.</summary>
    public const string DefaultPath = "data/taskstats.db";

    /// <summary>The database file; relative paths start at the working directory.</summary>
    public string Path { get; init; } = DefaultPath;

    /// <summary>
    /// The longest a record waits in the open transaction before it is committed: what a crash or
    /// <c>kill -9</c> can lose at most, in time.
    /// </summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A transaction is committed as soon as it holds this many records.</summary>
    public int FlushRecords { get; init; } = 10_000;

    /// <summary>fsync every commit (survives power loss) rather than only the checkpoints (survives a crash).</summary>
    public bool SynchronousFull { get; init; }

    /// <summary>Whether window summaries are stored.</summary>
    public bool Windows { get; init; } = true;

    /// <summary>Rows older than this are deleted; <see cref="TimeSpan.Zero"/> keeps them however old.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// When the data takes more than this many bytes, the oldest exit records are deleted until it takes
    /// 90 % of it and the file is shrunk; 0 sets no limit.
    /// </summary>
    public long MaxSize { get; init; } = 1L << 30;

    /// <summary>How often retention is enforced (also once when the sink starts).</summary>
    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the write-ahead log is folded into the database, off the writer's thread.</summary>
    internal TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Log frames past which the writer finishes a checkpoint itself (see <see cref="HistoryCheckpointer"/>).</summary>
    internal int LogFramesLimit { get; init; } = HistoryCheckpointer.DefaultLogFramesLimit;

    /// <summary>Reads a sink's block, refusing a bad value with its full key.</summary>
    /// <param name="config">The sink's own block.</param>
    /// <param name="keyPrefix">The block's HOCON path, for messages: <c>taskstats.sinks.history</c>.</param>
    /// <exception cref="ConfigException">A value is refused.</exception>
    public static HistoryOptions FromConfig(Config config, string keyPrefix)
    {
        ArgumentNullException.ThrowIfNull(config);
        var reader = new Reader(config, keyPrefix);
        var defaults = new HistoryOptions();
        return new HistoryOptions
        {
            Path = reader.Text("path") ?? defaults.Path,
            FlushInterval = reader.Duration("flush-interval", defaults.FlushInterval, allowOff: false),
            FlushRecords = reader.Int("flush-records", defaults.FlushRecords, 1, 1_000_000),
            SynchronousFull = reader.Choice("synchronous", false, ("normal", false), ("full", true)),
            Windows = reader.Boolean("windows", defaults.Windows),
            MaxAge = reader.Duration("retention.max-age", defaults.MaxAge, allowOff: true),
            MaxSize = reader.Size("retention.max-size", defaults.MaxSize),
            RetentionInterval = reader.Duration("retention.check-interval", defaults.RetentionInterval, allowOff: false),
        };
    }

    /// <summary>Typed reads of the sink's keys; every refusal names the full key.</summary>
    private sealed class Reader(Config config, string prefix)
    {
        private string Key(string key) => $"{prefix}.{key}";

        private string? Raw(string key)
        {
            var value = config.GetValue(key);
            if (value is null)
                return null;
            if (!value.IsString())
                throw new ConfigException(Key(key), "{ ... }", "is a block, not a value", null);
            return value.GetString()?.Trim();
        }

        public string? Text(string key)
        {
            var text = Raw(key);
            if (text is not null && text.Length == 0)
                throw new ConfigException(Key(key), text, "is empty", "a file path, e.g. \"data/taskstats.db\"");
            return text;
        }

        public TimeSpan Duration(string key, TimeSpan fallback, bool allowOff)
        {
            var valid = allowOff ? "a duration such as 30d, 12h or 90m; 0 or off for no limit" : "a positive duration such as 1s, 500ms or 1m";
            var text = Raw(key);
            if (text is null)
                return fallback;
            if (allowOff && (text.Equals("off", StringComparison.OrdinalIgnoreCase) || text == "0"))
                return TimeSpan.Zero;
            TimeSpan duration;
            try
            {
                duration = text.StartsWith('-') ? TimeSpan.MinValue : config.GetTimeSpan(key, null, allowInfinite: false);
            }
            catch (Exception e)
            {
                throw new ConfigException(Key(key), text, "is not a duration", valid, e);
            }
            if (duration <= TimeSpan.Zero)
                throw new ConfigException(Key(key), text, "is not positive", valid);
            return duration;
        }

        public long Size(string key, long fallback)
        {
            const string valid = "a size such as 1 GiB or 500 MiB; 0 or off for no limit";
            var text = Raw(key);
            if (text is null)
                return fallback;
            if (text.Equals("off", StringComparison.OrdinalIgnoreCase) || text == "0")
                return 0;
            long? size;
            try
            {
                size = text.StartsWith('-') ? -1 : config.GetByteSize(key);
            }
            catch (Exception e)
            {
                throw new ConfigException(Key(key), text, "is not a size", valid, e);
            }
            if (size is null or < 0)
                throw new ConfigException(Key(key), text, size is null ? "is not a size" : "is negative", valid);
            // Below a few pages the schema alone would not fit.
            if (size < 64 * 1024)
                throw new ConfigException(Key(key), text, "is smaller than 64 KiB", valid);
            return size.Value;
        }

        public int Int(string key, int fallback, int min, int max)
        {
            var valid = $"a whole number from {min} to {max}";
            var text = Raw(key);
            if (text is null)
                return fallback;
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                throw new ConfigException(Key(key), text, "is not a whole number", valid);
            if (number < min || number > max)
                throw new ConfigException(Key(key), text, number < min ? $"is less than {min}" : "is too large", valid);
            return (int)number;
        }

        public bool Boolean(string key, bool fallback)
        {
            var text = Raw(key);
            if (text is null)
                return fallback;
            try
            {
                return config.GetBoolean(key);
            }
            catch (Exception e)
            {
                throw new ConfigException(Key(key), text, "is not on or off", "on or off", e);
            }
        }

        public T Choice<T>(string key, T fallback, params (string Name, T Value)[] choices)
        {
            var text = Raw(key);
            if (text is null)
                return fallback;
            foreach (var (name, value) in choices)
            {
                if (text.Equals(name, StringComparison.OrdinalIgnoreCase))
                    return value;
            }
            throw new ConfigException(Key(key), text, "is not a known value", string.Join(" | ", choices.Select(choice => choice.Name)));
        }
    }
}
