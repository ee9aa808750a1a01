using System.Text.RegularExpressions;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Collector.Tests.Settings;

/// <summary>The shipped <c>config/taskstats.conf</c>: it loads here, documents every key, and can be overridden by appending.</summary>
public sealed class DefaultConfigSpecs : IDisposable
{
    private readonly SettingsFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void Default_file_should_load_on_this_host_with_one_shard_per_cpu()
    {
        var online = OnlineCpus.System.ReadOnline();

        var settings = SettingsLoader.Load(SettingsLoader.ParseFile(SettingsFixture.DefaultConfigFile));

        var shards = settings.Shards.Select(shard => shard.Cpus.ToString()).ToArray();
        if (online == CpuMask.Parse("0-1"))
            Assert.Equal(["0", "1"], shards);
        if (online.Count <= 16)
            Assert.Equal(online.Select(cpu => cpu.ToString()), shards);
        Assert.True(ShardLayout.Uncovered(settings.Shards.Select(shard => shard.Cpus), online).IsEmpty);
        Assert.Empty(settings.Warnings);
    }

    [Fact]
    public void Default_file_should_configure_console_history_and_prometheus_and_keep_jsonl_one_line_away()
    {
        var settings = SettingsLoader.Load(SettingsLoader.ParseFile(SettingsFixture.DefaultConfigFile));

        Assert.Equal(["console", "history", "prometheus"], settings.Sinks.Select(sink => sink.Name));
        var console = settings.Sinks[0];
        Assert.Equal("TaskstatsActors.Collector.Sinks.ConsoleSink", console.Type.FullName);
        Assert.Equal((64, SinkOverflow.Drop), (console.Buffer, console.Overflow));

        var copy = _fixture.PathOf("taskstats.conf");
        File.Copy(SettingsFixture.DefaultConfigFile, copy);
        File.AppendAllText(copy, "\ntaskstats.sinks.jsonl.enabled = on\n");
        var withJsonl = SettingsLoader.Load(SettingsLoader.ParseFile(copy));
        Assert.Equal(["console", "jsonl", "history", "prometheus"], withJsonl.Sinks.Select(sink => sink.Name));
        var jsonl = withJsonl.Sinks[1];
        Assert.Equal("TaskstatsActors.Collector.Sinks.JsonLinesSink", jsonl.Type.FullName);
        Assert.Equal((64, SinkOverflow.Backpressure), (jsonl.Buffer, jsonl.Overflow));
        Assert.Equal("data/exits.jsonl", jsonl.Config.GetString("path"));
        Assert.Equal(100L << 20, jsonl.Config.GetByteSize("rotate-size"));
    }

    [Fact]
    public void Default_file_values_should_equal_the_defaults_of_absent_keys()
    {
        var cpus = _fixture.Sysfs("0-1");
        var file = SettingsLoader.Load(SettingsLoader.ParseFile(SettingsFixture.DefaultConfigFile), cpus);
        var absent = SettingsLoader.Load(SettingsFixture.Hocon(""), cpus);

        Assert.Equal(file, absent, new SettingsComparer());
        Assert.Equal(4 << 20, file.ReceiveBuffer);
        Assert.Equal(64 << 20, file.MaxReceiveBuffer);
        Assert.Equal(DelayAccountingMode.Warn, file.DelayAccounting);
        Assert.Equal(TimeSpan.FromSeconds(10), file.StatusInterval);
        Assert.False(file.PinListeners);
        Assert.Equal((1024, 16), (file.BatchSize, file.StreamBuffer));
        Assert.Equal((TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(100)), (file.BatchLinger, file.QuietLinger));
        Assert.Equal(new WatchdogSettings(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60)), file.Watchdog);
        Assert.Equal((TimeSpan.FromSeconds(10), 20), (file.AggregateWindow, file.AggregateTop));
    }

    [Fact]
    public void Key_appended_to_a_copy_of_the_default_file_should_override_it()
    {
        var copy = _fixture.PathOf("taskstats.conf");
        File.Copy(SettingsFixture.DefaultConfigFile, copy);
        File.AppendAllText(copy, "\ntaskstats.sinks.jsonl.enabled = on\ntaskstats.sinks.jsonl.path = \"out/test.jsonl\"\n");

        var settings = SettingsLoader.Load(SettingsLoader.ParseFile(copy));

        var jsonl = Assert.Single(settings.Sinks, sink => sink.Name == "jsonl");
        Assert.Equal("out/test.jsonl", jsonl.Config.GetString("path"));
        // The rest of the block stays as the default file set it.
        Assert.Equal(5, jsonl.Config.GetInt("keep"));
        Assert.Equal("TaskstatsActors.Collector.Sinks.JsonLinesSink", jsonl.Type.FullName);
    }

    [Fact]
    public void Appended_enabled_off_should_leave_a_sink_out()
    {
        var copy = _fixture.PathOf("taskstats.conf");
        File.Copy(SettingsFixture.DefaultConfigFile, copy);
        File.AppendAllText(copy, "\ntaskstats.sinks.console.enabled = off\ntaskstats.shards = [\"0\"]\n");

        var settings = SettingsLoader.Load(SettingsLoader.ParseFile(copy), _fixture.Sysfs("0-1"));

        Assert.Equal(["history", "prometheus"], settings.Sinks.Select(sink => sink.Name));
        Assert.Equal(["0"], settings.Shards.Select(shard => shard.Cpus.ToString()));
        Assert.Contains(settings.Warnings, warning => warning.Contains("cpu 1 online but in no shard"));
    }

    [Fact]
    public void Default_file_should_document_every_key_it_sets()
    {
        // Documented: a comment right above the key, or (for keys every sink shares) the key named in a comment.
        var lines = File.ReadAllLines(SettingsFixture.DefaultConfigFile);
        var comments = string.Join("\n", lines.Where(IsComment));
        var undocumented = new List<string>();
        var previous = "";
        foreach (var line in lines)
        {
            var match = Regex.Match(line, @"^\s*([a-z][a-z-]*)\s*(=|\{)");
            if (match.Success && !IsComment(line))
            {
                var key = match.Groups[1].Value;
                var named = Regex.IsMatch(comments, $@"(^|[^a-z-]){Regex.Escape(key)}([^a-z-]|$)", RegexOptions.Multiline);
                if (!IsComment(previous) && !named)
                    undocumented.Add(key);
            }
            if (line.Trim().Length > 0)
                previous = line;
        }

        Assert.Empty(undocumented);
        Assert.Contains("receive-buffer = 4 MiB", lines.Select(line => line.Trim()));

        static bool IsComment(string line) => line.TrimStart().StartsWith('#');
    }

    [Fact]
    public void Unknown_key_should_give_a_warning()
    {
        var settings = SettingsLoader.Load(SettingsFixture.Hocon("taskstats.recieve-buffer = 8 MiB" + SettingsFixture.NullSink), _fixture.Sysfs("0-1"));

        var warning = Assert.Single(settings.Warnings);
        Assert.StartsWith("taskstats.recieve-buffer is not a known key and is ignored", warning);
        Assert.Equal(4 << 20, settings.ReceiveBuffer);
    }

    [Fact]
    public void Config_without_sinks_should_warn_that_nothing_is_kept()
    {
        var settings = SettingsLoader.Load(SettingsFixture.Hocon(""), _fixture.Sysfs("0"));

        Assert.Empty(settings.Sinks);
        Assert.Contains(settings.Warnings, warning => warning.StartsWith("taskstats.sinks: no sink is enabled"));
    }

    [Fact]
    public void Status_interval_off_should_read_as_zero() =>
        Assert.Equal(TimeSpan.Zero,
            SettingsLoader.Load(SettingsFixture.Hocon("taskstats.status-interval = off"), _fixture.Sysfs("0")).StatusInterval);

    // Records compare their lists by reference: compare the shards by value, and ignore sinks and warnings.
    private sealed class SettingsComparer : IEqualityComparer<CollectorSettings>
    {
        private static readonly IReadOnlyList<Events.ShardInfo> NoShards = [];
        private static readonly IReadOnlyList<SinkSettings> NoSinks = [];
        private static readonly IReadOnlyList<string> NoWarnings = [];

        public bool Equals(CollectorSettings? x, CollectorSettings? y) =>
            x is not null && y is not null && x.Shards.SequenceEqual(y.Shards) && Normalize(x) == Normalize(y);

        public int GetHashCode(CollectorSettings obj) => 0;

        private static CollectorSettings Normalize(CollectorSettings settings) =>
            settings with { Shards = NoShards, Sinks = NoSinks, Warnings = NoWarnings };
    }
}
