using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Sinks;
using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Collector.Tests.Sinks;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Sqlite;

/// <summary>The sink in a real stream, as the collector runs it, and its config block.</summary>
public sealed class SqliteSinkSpecs : SinkSpec
{
    private readonly ITestOutputHelper _output;

    public SqliteSinkSpecs(ITestOutputHelper output) : base(output) => _output = output;

    private IActorRef Start(string hocon) => Sys.ActorOf(Props.Create(() => new SqliteSink(Context("history", hocon))));

    [Fact]
    public void SqliteSink_should_store_every_record_loss_restart_and_window_of_the_stream()
    {
        var path = PathOf("data/taskstats.db");
        CollectorEvent[] events = [.. SinkEvents.Exits(batches: 6, perBatch: 50), SinkEvents.Loss(123), SinkEvents.Restart(), SinkEvents.Window(),
            new ExitBatch(SinkEvents.Shard0, [SinkEvents.LastThread(sequence: 9, pid: 4243, tgid: 4242, comm: "java")], SinkEvents.T0)];

        RunToEnd(Start($"path = \"{path}\""), events);
        // The stream's end flushed and closed the file: the log is folded into it.
        var walLeft = File.Exists(path + "-wal");

        Assert.False(walLeft);
        Assert.Equal(302, HistoryFiles.Count(path, HistorySchema.Exits));
        Assert.Equal(1, HistoryFiles.Count(path, HistorySchema.Exits, "scope = 'tgid' AND scope_id = 4242 AND seq = 9"));
        Assert.Equal(150, HistoryFiles.Count(path, HistorySchema.Exits, "shard = 1"));
        Assert.Equal(1, HistoryFiles.Count(path, HistorySchema.Losses, "count = 123 AND shard = 1"));
        Assert.Equal(1, HistoryFiles.Count(path, HistorySchema.Restarts));
        Assert.Equal(1, HistoryFiles.Count(path, HistorySchema.Windows));
        Assert.Equal(4, HistoryFiles.Count(path, HistorySchema.WindowGroups));
    }

    [Fact]
    public void SqliteSink_with_windows_off_should_store_no_windows()
    {
        var path = PathOf("h.db");

        RunToEnd(Start($"path = \"{path}\"\nwindows = off"), [SinkEvents.Window(), .. SinkEvents.Exits(1, 3)]);

        Assert.Equal(0, HistoryFiles.Count(path, HistorySchema.Windows));
        Assert.Equal(3, HistoryFiles.Count(path, HistorySchema.Exits));
    }

    [Fact]
    public void SqliteSink_should_write_tens_of_thousands_of_records_a_second_in_a_stream()
    {
        var path = PathOf("rate.db");
        var batches = SinkEvents.Exits(batches: 400, perBatch: 256);
        var clock = Stopwatch.StartNew();

        RunToEnd(Start($"path = \"{path}\""), batches);

        var rate = 400 * 256 / clock.Elapsed.TotalSeconds;
        _output.WriteLine($"{400 * 256} records through the sink actor in {clock.Elapsed.TotalSeconds:0.00} s: {rate:N0} records/s");
        Assert.Equal(400 * 256, HistoryFiles.Count(path, HistorySchema.Exits));
        Assert.True(rate > 5_000, $"{rate:N0} records/s"); // a floor for gross regressions; see HistoryThroughputSpecs
    }

    [Fact]
    public void The_block_should_default_to_data_taskstats_db_and_read_every_key()
    {
        var defaults = HistoryOptions.FromConfig(Config.Empty, "taskstats.sinks.history");
        var set = HistoryOptions.FromConfig(ConfigurationFactory.ParseString("""
            path = "/var/lib/taskstats/h.db"
            flush-interval = 250ms
            flush-records = 500
            synchronous = full
            windows = off
            retention { max-age = 7d, max-size = 500 MiB, check-interval = 5m }
            """), "taskstats.sinks.history");
        var off = HistoryOptions.FromConfig(ConfigurationFactory.ParseString("retention { max-age = off, max-size = 0 }"), "taskstats.sinks.history");

        Assert.Equal(new HistoryOptions(), defaults);
        Assert.Equal("data/taskstats.db", defaults.Path);
        Assert.Equal((TimeSpan.FromDays(30), 1L << 30), (defaults.MaxAge, defaults.MaxSize));
        Assert.Equal(new HistoryOptions
        {
            Path = "/var/lib/taskstats/h.db",
            FlushInterval = TimeSpan.FromMilliseconds(250),
            FlushRecords = 500,
            SynchronousFull = true,
            Windows = false,
            MaxAge = TimeSpan.FromDays(7),
            MaxSize = 500L << 20,
            RetentionInterval = TimeSpan.FromMinutes(5),
        }, set);
        Assert.Equal((TimeSpan.Zero, 0L), (off.MaxAge, off.MaxSize));
    }

    [Theory]
    [InlineData("retention.max-age = soon", "taskstats.sinks.history.retention.max-age = \"soon\": is not a duration")]
    [InlineData("retention.max-age = -1d", "taskstats.sinks.history.retention.max-age = \"-1d\": is not positive")]
    [InlineData("retention.max-size = lots", "taskstats.sinks.history.retention.max-size = \"lots\": is not a size")]
    [InlineData("retention.max-size = 1 KiB", "is smaller than 64 KiB")]
    [InlineData("flush-records = 0", "taskstats.sinks.history.flush-records = \"0\": is less than 1")]
    [InlineData("flush-interval = 0s", "taskstats.sinks.history.flush-interval = \"0s\": is not positive")]
    [InlineData("synchronous = sometimes", "valid: normal | full")]
    [InlineData("path = \"\"", "taskstats.sinks.history.path = \"\": is empty")]
    public void A_bad_value_should_be_refused_naming_the_key(string hocon, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => HistoryOptions.FromConfig(ConfigurationFactory.ParseString(hocon), "taskstats.sinks.history"));

        Assert.Contains(expected, error.Message);
    }

    /// <summary>The block proposed for config/taskstats.conf (under taskstats.sinks), verbatim.</summary>
    private const string DefaultBlock = """
    # The history: every exit record, window summary, loss and listener restart in a SQLite database that
    # `taskstats-actors report` questions (tables, columns and indexes: docs/history-schema.md). Records are
    # written in batched transactions to a write-ahead log: a crash or kill -9 loses at most the open batch
    # and never corrupts the file. sqlite3 can read it while the collector writes.
    history {
      class = "TaskstatsActors.Collector.Sinks.SqliteSink, TaskstatsActors.Collector"
      # The database file, created with its directory if missing. Relative to the working directory.
      # Default: "data/taskstats.db"
      path = "data/taskstats.db"
      # Commit the open transaction once it holds this many records...
      # Valid: a whole number from 1 to 1000000. Default: 10000
      flush-records = 10000
      # ...or once it has been open this long, whichever comes first: the most a crash can lose.
      # Valid: a positive duration. Default: 1s
      flush-interval = 1s
      # normal: a commit survives the collector crashing or being killed, never an fsync on the way;
      # full:   a commit also survives a power loss (an fsync per commit, slower).
      # Either way the file is never corrupted. Valid: normal | full. Default: normal
      synchronous = normal
      # Also store the aggregator's window summaries. Valid: on | off. Default: on
      windows = on
      retention {
        # Rows older than this are deleted. Valid: a duration such as 30d, 12h or 90m; 0 or off keeps
        # everything. Default: 30d
        max-age = 30d
        # When the data takes more than this, the oldest exit records are deleted down to 90 % of it and
        # the file shrinks. Valid: a size from 64 KiB, such as 1 GiB or 500 MiB; 0 or off for no limit.
        # Default: 1 GiB
        max-size = 1 GiB
        # How often the limits are enforced (also once at start). Valid: a positive duration. Default: 1m
        check-interval = 1m
      }
      buffer = 256
      # Every record must reach the history: slow the stream rather than drop.
      overflow = backpressure
    }
    """;

    [Fact]
    public void The_block_for_the_default_config_should_load_and_state_the_defaults()
    {
        var path = PathOf("data/taskstats.db");
        var settings = SettingsLoader.Load(ConfigurationFactory.ParseString(
            "taskstats {\n  sinks {\n" + DefaultBlock + "\n  }\n}\n" + $"taskstats.sinks.history.path = \"{path}\""));

        var sink = Assert.Single(settings.Sinks);
        Assert.Equal(("history", typeof(SqliteSink), 256, SinkOverflow.Backpressure), (sink.Name, sink.Type, sink.Buffer, sink.Overflow));
        Assert.Empty(settings.Warnings);
        Assert.Equal(new HistoryOptions { Path = path }, HistoryOptions.FromConfig(sink.Config, "taskstats.sinks.history"));
    }

    [Fact]
    public void The_sink_should_load_from_a_collector_config_block()
    {
        var path = PathOf("loaded/taskstats.db");
        var settings = SettingsLoader.Load(ConfigurationFactory.ParseString($$"""
            taskstats {
              shards = [ "0" ]
              sinks.history {
                class = "TaskstatsActors.Collector.Sinks.SqliteSink, TaskstatsActors.Collector"
                path = "{{path}}"
                retention { max-age = 30d, max-size = 1 GiB }
              }
            }
            """));

        var sink = Assert.Single(settings.Sinks);
        Assert.Equal(typeof(SqliteSink), sink.Type);
        Assert.True(System.IO.Directory.Exists(Path.GetDirectoryName(path)), "the settings probe creates the file's directory");
    }
}
