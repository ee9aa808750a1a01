using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Configuration;
using Akka.Configuration.Hocon;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks;
using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Collector.Settings;

/// <summary>
/// Reads and validates the <c>taskstats</c> HOCON block (documented in <c>config/taskstats.conf</c>),
/// refusing bad values at start with the key, the value and what would be valid.
/// </summary>
public static class SettingsLoader
{
    /// <summary>The HOCON block the collector reads.</summary>
    public const string Root = "taskstats";

    /// <summary>Sink defaults common to every sink when its block does not set them.</summary>
    public const int DefaultSinkBuffer = 64;

    // The kernel caps a socket buffer at INT_MAX / 2 (it doubles what it is asked for).
    private const long MaxSocketBuffer = 1L << 30;

    private static readonly HashSet<string> TopLevelKeys =
    [
        "shards", "cpus-per-shard", "receive-buffer", "max-receive-buffer", "delay-accounting", "status-interval",
        "pin-listeners", "batch-size", "batch-linger", "quiet-linger", "stream-buffer", "watchdog", "aggregate", "sinks",
    ];

    private static readonly HashSet<string> WatchdogKeys = ["min-backoff", "max-backoff", "reset-after"];

    private static readonly HashSet<string> AggregateKeys = ["window", "top"];

    /// <summary>
    /// Reads the <c>taskstats</c> block of <paramref name="config"/>. Keys that are absent take the
    /// defaults of <c>config/taskstats.conf</c>, except sinks: only the sinks configured run.
    /// Checks every value against this machine (online CPUs, NUMA nodes, sink classes, writable
    /// paths): a sink's <c>path</c> directory is created and probed with a file that is then deleted.
    /// </summary>
    /// <param name="config">The whole configuration (the block is looked up at <c>taskstats</c>).</param>
    /// <param name="cpus">Where to read the CPU topology; null for this machine's sysfs.</param>
    /// <exception cref="ConfigException">A value is refused.</exception>
    public static CollectorSettings Load(Config config, OnlineCpus? cpus = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var block = new Block(config);
        var warnings = new List<string>();
        block.WarnUnknownKeys(Root, TopLevelKeys, warnings);
        block.WarnUnknownKeys($"{Root}.watchdog", WatchdogKeys, warnings);
        block.WarnUnknownKeys($"{Root}.aggregate", AggregateKeys, warnings);

        var shards = ReadShards(block, cpus ?? OnlineCpus.System, warnings);

        var receiveBuffer = block.Size($"{Root}.receive-buffer", 4L << 20, MaxSocketBuffer);
        var maxReceiveBuffer = block.Size($"{Root}.max-receive-buffer", 64L << 20, MaxSocketBuffer);
        if (receiveBuffer > maxReceiveBuffer)
            throw new ConfigException($"{Root}.receive-buffer", block.Raw($"{Root}.receive-buffer") ?? Bytes(receiveBuffer),
                $"is larger than {Root}.max-receive-buffer = {block.Raw($"{Root}.max-receive-buffer") ?? Bytes(maxReceiveBuffer)}",
                $"a size up to {Root}.max-receive-buffer (the watchdog only grows a buffer)");

        var delayAccounting = block.Choice($"{Root}.delay-accounting", DelayAccountingMode.Warn,
            ("warn", DelayAccountingMode.Warn), ("enable", DelayAccountingMode.Enable), ("require", DelayAccountingMode.Require));
        var statusInterval = block.Duration($"{Root}.status-interval", TimeSpan.FromSeconds(10), allowOff: true);
        var pinListeners = block.Boolean($"{Root}.pin-listeners", false);
        var batchSize = block.Int($"{Root}.batch-size", 1024, 1, 65_536);
        var batchLinger = block.Duration($"{Root}.batch-linger", TimeSpan.FromMilliseconds(30), allowOff: true);
        var quietLinger = block.Duration($"{Root}.quiet-linger", TimeSpan.FromMilliseconds(100), allowOff: true);
        if (quietLinger > TimeSpan.Zero && quietLinger < batchLinger)
            throw new ConfigException($"{Root}.quiet-linger", block.Raw($"{Root}.quiet-linger") ?? quietLinger.ToString(),
                $"is shorter than {Root}.batch-linger = {block.Raw($"{Root}.batch-linger") ?? batchLinger.ToString()}",
                "a duration at least batch-linger, or off");
        var streamBuffer = block.Int($"{Root}.stream-buffer", 16, 1, 65_536);

        var minBackoff = block.Duration($"{Root}.watchdog.min-backoff", TimeSpan.FromMilliseconds(200));
        var maxBackoff = block.Duration($"{Root}.watchdog.max-backoff", TimeSpan.FromSeconds(10));
        if (maxBackoff < minBackoff)
            throw new ConfigException($"{Root}.watchdog.max-backoff", block.Raw($"{Root}.watchdog.max-backoff") ?? maxBackoff.ToString(),
                $"is shorter than {Root}.watchdog.min-backoff = {block.Raw($"{Root}.watchdog.min-backoff") ?? minBackoff.ToString()}",
                "a duration at least min-backoff");
        var resetAfter = block.Duration($"{Root}.watchdog.reset-after", TimeSpan.FromSeconds(60));

        var window = block.Duration($"{Root}.aggregate.window", TimeSpan.FromSeconds(10));
        var top = block.Int($"{Root}.aggregate.top", 20, 1, 10_000);

        var sinks = ReadSinks(block, warnings);

        return new CollectorSettings(
            shards, (int)receiveBuffer, (int)maxReceiveBuffer, delayAccounting, window, top, statusInterval, pinListeners,
            batchSize, streamBuffer, new WatchdogSettings(minBackoff, maxBackoff, resetAfter), sinks, warnings, batchLinger, quietLinger);
    }

    /// <summary>
    /// Parses a HOCON file. <c>include "other.conf"</c> is resolved relative to the including file's
    /// directory (a missing include is an error, not silently skipped). Relative
    /// <c>taskstats.sinks.*.assembly-path</c> values are made absolute against this file's directory,
    /// so that they keep meaning the same file wherever the config travels (e.g. into Akka.Hosting).
    /// </summary>
    /// <exception cref="ConfigException">The file (or an include) cannot be read or parsed; the key is the file name.</exception>
    public static Config ParseFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = Path.GetFullPath(path);
        var root = ParseHoconFile(file, []);
        AnchorAssemblyPaths(root, Path.GetDirectoryName(file)!);
        return new Config(root);
    }

    private static IReadOnlyList<ShardInfo> ReadShards(Block block, OnlineCpus cpus, List<string> warnings)
    {
        var key = $"{Root}.shards";
        var perShardKey = $"{Root}.cpus-per-shard";
        CpuMask online;
        try
        {
            online = cpus.ReadOnline();
        }
        catch (CpuMaskException e)
        {
            throw new ConfigException(key, block.Raw(key) ?? "auto", $"cannot read the online cpus: {e.Message}", null, e);
        }

        var perShardRaw = block.Raw(perShardKey);
        int? perShard = null;
        if (perShardRaw is not null && !perShardRaw.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase))
            perShard = block.Int(perShardKey, 0, 1, CpuMask.MaxCpu + 1, "auto, or a whole number of cpus per listener, at least 1");

        IReadOnlyList<CpuMask> masks;
        var value = block.Value(key);
        if (value is null || (value.IsString() && value.GetString().Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)))
        {
            IReadOnlyList<(int Node, CpuMask Cpus)> nodes;
            try
            {
                nodes = cpus.ReadNumaNodes();
            }
            catch (CpuMaskException e)
            {
                throw new ConfigException(key, "auto", $"cannot read the NUMA nodes: {e.Message}",
                    "an explicit list of cpu masks instead", e);
            }
            masks = ShardLayout.Auto(online, nodes, perShard);
        }
        else if (Block.IsList(value))
        {
            var items = value.IsArray() ? value.GetArray() : [];
            var texts = new List<string>(items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                if (!items[i].IsString())
                    throw new ConfigException($"{key}[{i}]", Block.Describe(items[i]), "is not a cpu mask",
                        $"cpus from {online}, {ShardLayout.MaskSyntax}");
                texts.Add(items[i].GetString() ?? "");
            }
            masks = ShardLayout.Explicit(texts, online, key);
            if (perShard is not null)
                warnings.Add($"{perShardKey} = {perShardRaw} is ignored: {key} lists the shards explicitly");
        }
        else
        {
            throw new ConfigException(key, Block.Describe(value), "is neither auto nor a list of cpu masks",
                $"auto, or a list of disjoint cpu masks such as [\"0-3\", \"4-7\"] (cpus from {online}, {ShardLayout.MaskSyntax})");
        }

        var uncovered = ShardLayout.Uncovered(masks, online);
        if (!uncovered.IsEmpty)
            warnings.Add($"{key}: {(uncovered.Count == 1 ? "cpu" : "cpus")} {uncovered} online but in no shard: " +
                         $"exits on {(uncovered.Count == 1 ? "it" : "them")} are not collected (online: {online})");
        return masks.Select((mask, index) => new ShardInfo(index, mask)).ToList();
    }

    private static IReadOnlyList<SinkSettings> ReadSinks(Block block, List<string> warnings)
    {
        var key = $"{Root}.sinks";
        var value = block.Value(key);
        var sinks = new List<SinkSettings>();
        if (value is not null && !value.IsObject())
            throw new ConfigException(key, Block.Describe(value), "is not a block of sinks",
                "sinks { name { class = \"Namespace.Type, Assembly\", ... } }");

        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, sinkValue) in value?.GetObject().Items ?? [])
        {
            var sinkKey = $"{key}.{name}";
            if (!sinkValue.IsObject())
                throw new ConfigException(sinkKey, Block.Describe(sinkValue), "is not a sink block",
                    $"{name} {{ class = \"Namespace.Type, Assembly\", ... }}");
            if (!block.Boolean($"{sinkKey}.enabled", true))
                continue;
            if (!ActorPath.IsValidPathElement(name))
                throw new ConfigException(sinkKey, null, $"\"{name}\" cannot name a sink (it names the sink's actor)",
                    "letters, digits and -_.*$+:@&=,!~';, not starting with $");

            var typeName = block.String($"{sinkKey}.class");
            if (string.IsNullOrWhiteSpace(typeName))
                throw new ConfigException($"{sinkKey}.class", typeName, typeName is null ? "is missing: every sink names its class" : "is empty",
                    "\"Namespace.Type, Assembly\", e.g. \"TaskstatsActors.Collector.Sinks.ConsoleSink, TaskstatsActors.Collector\"");
            // ParseFile made a relative assembly-path absolute against the file; one still relative
            // came from a config built in code, and starts at the working directory.
            var type = SinkTypeLoader.Load(sinkKey, typeName, block.String($"{sinkKey}.assembly-path"));

            var buffer = block.Int($"{sinkKey}.buffer", DefaultSinkBuffer, 1, 1 << 20);
            var overflow = block.Choice($"{sinkKey}.overflow", SinkOverflow.Backpressure,
                ("backpressure", SinkOverflow.Backpressure), ("drop", SinkOverflow.Drop));

            if (block.Value($"{sinkKey}.path") is not null)
            {
                var file = CheckWritable($"{sinkKey}.path", block.String($"{sinkKey}.path"));
                if (paths.TryGetValue(file, out var other))
                    throw new ConfigException($"{sinkKey}.path", block.String($"{sinkKey}.path"),
                        $"is also the path of {other} ({file}): the two sinks would write over each other", "a file no other sink writes");
                paths[file] = sinkKey;
            }

            var sinkConfig = block.Config.GetConfig(sinkKey);
            sinks.Add(new SinkSettings(name, type, buffer, overflow, sinkConfig));
        }
        if (sinks.Count == 0)
            warnings.Add($"{key}: no sink is enabled: records are collected and counted, but not kept or shown");
        return sinks;
    }

    /// <summary>
    /// Checks that a sink can write <paramref name="text"/> (relative paths start at the working
    /// directory): creates its directory, writes and deletes a probe file there, and, if the file
    /// exists, opens it for writing without changing it. Returns the full path.
    /// </summary>
    private static string CheckWritable(string key, string? text)
    {
        const string valid = "a file path the collector can write (relative paths start at the working directory)";
        if (string.IsNullOrWhiteSpace(text))
            throw new ConfigException(key, text ?? "", "is empty", valid);
        string file;
        try
        {
            file = Path.GetFullPath(text);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new ConfigException(key, text, $"is not a valid path: {e.Message}", valid, e);
        }
        if (Directory.Exists(file) || text.EndsWith('/'))
            throw new ConfigException(key, text, $"{file} is a directory, not a file", valid);
        var directory = Path.GetDirectoryName(file)!;
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(key, text, $"cannot create its directory {directory}: {e.Message}", valid, e);
        }
        var probe = Path.Combine(directory, $".{Path.GetFileName(file)}.probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            if (File.Exists(file))
                new FileStream(file, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete).Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(key, text, $"cannot write in {directory}: {e.Message}", valid, e);
        }
        return file;
    }

    private static HoconRoot ParseHoconFile(string file, HashSet<string> including)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigException(file, null, "the file does not exist", "a HOCON file such as config/taskstats.conf", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(file, null, $"cannot read the file: {e.Message}", null, e);
        }

        including.Add(file);
        try
        {
            var directory = Path.GetDirectoryName(file)!;
            return Parser.Parse(text, include => IncludeFile(file, directory, include, including));
        }
        catch (ConfigException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new ConfigException(file, null, $"cannot parse it{Where(text, e.Message)}: {e.Message.TrimEnd()}",
                "HOCON as in config/taskstats.conf", e);
        }
        finally
        {
            including.Remove(file);
        }
    }

    private static HoconRoot IncludeFile(string file, string directory, string include, HashSet<string> including)
    {
        var target = Path.GetFullPath(Path.Combine(directory, include));
        if (including.Contains(target))
            throw new ConfigException(file, null, $"include \"{include}\" includes {target} again, which never ends", "includes without a cycle");
        if (!File.Exists(target))
            throw new ConfigException(file, null, $"include \"{include}\": {target} does not exist",
                "include \"file.conf\", relative to the including file's directory, or absolute");
        return ParseHoconFile(target, including);
    }

    // Akka's parser reports a character offset ("Unknown token at position 129"); operators count lines.
    private static string Where(string text, string message)
    {
        var match = Regex.Match(message, @"position (\d+)");
        if (!match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var position))
            return "";
        position = Math.Min(position, text.Length);
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < position; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return $" at line {line}, column {position - lineStart + 1}";
    }

    private static void AnchorAssemblyPaths(HoconRoot root, string directory)
    {
        var sinks = new Config(root).GetValue($"{Root}.sinks");
        if (sinks is null || !sinks.IsObject())
            return;
        foreach (var (_, sink) in sinks.GetObject().Items)
        {
            if (!sink.IsObject() || !sink.GetObject().Items.TryGetValue("assembly-path", out var value) || !value.IsString())
                continue;
            var path = value.GetString();
            if (string.IsNullOrWhiteSpace(path) || Path.IsPathRooted(path))
                continue;
            value.NewValue(new HoconLiteral { Value = SinkTypeLoader.ResolveAssemblyPath(path, directory) });
        }
    }

    private static string Bytes(long bytes) => bytes.ToString(CultureInfo.InvariantCulture);

    /// <summary>Typed reads of one config, each refusing a bad value with its key.</summary>
    private sealed class Block(Config config)
    {
        public Config Config { get; } = config;

        public HoconValue? Value(string key) => Config.GetValue(key);

        /// <summary>The value as written, for messages; null when absent.</summary>
        public string? Raw(string key) => Value(key) is { } value ? Describe(value) : null;

        public string? String(string key)
        {
            var value = Value(key);
            if (value is null)
                return null;
            if (!value.IsString())
                throw new ConfigException(key, Describe(value), "is not a string", "a string");
            return value.GetString();
        }

        /// <summary>A list, including the empty list, which Akka's <see cref="HoconValue.IsArray"/> does not count as one.</summary>
        public static bool IsList(HoconValue value) =>
            value.IsArray() || (value.Values.Count > 0 && value.Values.All(element => element is HoconArray));

        public static string Describe(HoconValue value)
        {
            if (value.IsObject())
                return "{ ... }";
            if (!value.IsArray() && IsList(value))
                return "[]";
            if (value.IsArray())
                return "[" + string.Join(", ", value.GetArray().Select(item => item.IsString() ? $"\"{item.GetString()}\"" : Describe(item))) + "]";
            return value.GetString() ?? "";
        }

        public long Size(string key, long fallback, long max)
        {
            var valid = $"a size such as 4 MiB, 512 KiB or 65536 (bytes), from 1 byte to {max >> 30} GiB " +
                        "(the kernel's cap on a socket buffer)";
            var value = Value(key);
            if (value is null)
                return fallback;
            long? size;
            try
            {
                size = value.IsString() ? Config.GetByteSize(key) : null;
            }
            catch (Exception e) when (e is not ConfigException)
            {
                throw new ConfigException(key, Describe(value), "is not a size", valid, e);
            }
            if (size is null)
                throw new ConfigException(key, Describe(value), "is not a size", valid);
            if (size <= 0)
                throw new ConfigException(key, Describe(value), "is not positive", valid);
            if (size > max)
                throw new ConfigException(key, Describe(value), "is too large", valid);
            return size.Value;
        }

        public int Int(string key, int fallback, int min, int max, string? valid = null)
        {
            valid ??= $"a whole number from {min} to {max}";
            var value = Value(key);
            if (value is null)
                return fallback;
            var text = value.IsString() ? value.GetString()?.Trim() : null;
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                throw new ConfigException(key, Describe(value), "is not a whole number", valid);
            if (number < min)
                throw new ConfigException(key, Describe(value), min == 1 ? "is not positive" : $"is less than {min}", valid);
            if (number > max)
                throw new ConfigException(key, Describe(value), "is too large", valid);
            return (int)number;
        }

        public TimeSpan Duration(string key, TimeSpan fallback, bool allowOff = false)
        {
            var valid = allowOff
                ? "a duration such as 10s, 500ms or 1m; 0 or off turns it off"
                : "a positive duration such as 10s, 500ms or 1m";
            var value = Value(key);
            if (value is null)
                return fallback;
            if (allowOff && value.IsString() && value.GetString().Trim().Equals("off", StringComparison.OrdinalIgnoreCase))
                return TimeSpan.Zero;
            // Akka's parser does not read a negative duration at all; say what is wrong with it.
            if (value.IsString() && value.GetString().TrimStart().StartsWith('-'))
                throw new ConfigException(key, Describe(value), allowOff ? "is negative" : "is not positive", valid);
            TimeSpan duration;
            try
            {
                duration = value.IsString() && !string.IsNullOrWhiteSpace(value.GetString())
                    ? Config.GetTimeSpan(key, null, allowInfinite: false)
                    : throw new FormatException("not a duration");
            }
            catch (Exception e) when (e is not ConfigException)
            {
                throw new ConfigException(key, Describe(value), "is not a duration", valid, e);
            }
            if (duration < TimeSpan.Zero || (duration == TimeSpan.Zero && !allowOff))
                throw new ConfigException(key, Describe(value), allowOff ? "is negative" : "is not positive", valid);
            return duration;
        }

        public bool Boolean(string key, bool fallback)
        {
            var value = Value(key);
            if (value is null)
                return fallback;
            try
            {
                return value.IsString() ? Config.GetBoolean(key) : throw new FormatException("not a boolean");
            }
            catch (Exception e) when (e is not ConfigException)
            {
                throw new ConfigException(key, Describe(value), "is not on or off", "on or off (also true/false, yes/no)", e);
            }
        }

        public T Choice<T>(string key, T fallback, params (string Name, T Value)[] choices)
        {
            var value = Value(key);
            if (value is null)
                return fallback;
            var text = value.IsString() ? value.GetString()?.Trim() : null;
            foreach (var (name, choice) in choices)
            {
                if (string.Equals(text, name, StringComparison.OrdinalIgnoreCase))
                    return choice;
            }
            throw new ConfigException(key, Describe(value), "is not a known value",
                string.Join(" | ", choices.Select(choice => choice.Name)));
        }

        /// <summary>Typos would otherwise be ignored silently, leaving the default in force.</summary>
        public void WarnUnknownKeys(string key, HashSet<string> known, List<string> warnings)
        {
            var value = Value(key);
            if (value is null)
                return;
            if (!value.IsObject())
                throw new ConfigException(key, Describe(value), "is not a block", $"{key} {{ ... }}, see config/taskstats.conf");
            foreach (var name in value.GetObject().Items.Keys)
            {
                if (!known.Contains(name))
                    warnings.Add($"{key}.{name} is not a known key and is ignored (known: {string.Join(", ", known)})");
            }
        }
    }
}
