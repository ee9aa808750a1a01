using TaskstatsActors.Collector.Settings;

namespace TaskstatsActors.Collector.Tests.Settings;

/// <summary>Each kind of bad config is refused with the key, the value as written and what would be valid.</summary>
public sealed class SettingsErrorSpecs : IDisposable
{
    private const string TestSinkClass = "TaskstatsActors.Collector.Tests.Settings.NullTestSink, TaskstatsActors.Collector.Tests";

    private readonly SettingsFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private ConfigException Refused(string hocon, string online = "0-1") =>
        Assert.Throws<ConfigException>(() => SettingsLoader.Load(SettingsFixture.Hocon(hocon), _fixture.Sysfs(online)));

    [Fact]
    public void Overlapping_shards_should_be_refused_naming_both()
    {
        var error = Refused("taskstats.shards = [\"0-1\", \"2\", \"1-3\"]", "0-3");

        Assert.Equal("taskstats.shards[2]", error.Key);
        Assert.Equal("1-3", error.Value);
        Assert.StartsWith("taskstats.shards[2] = \"1-3\": overlaps taskstats.shards[0] = \"0-1\" on cpu 1", error.Message);
        Assert.Contains("valid: disjoint masks", error.Message);
        Assert.Contains("cpus from 0-3", error.Message);
    }

    [Fact]
    public void Offline_cpu_should_be_refused_with_the_online_cpus()
    {
        var error = Refused("taskstats.shards = [\"0\", \"1-2\"]");

        Assert.Equal(
            "taskstats.shards[1] = \"1-2\": cpu 2 is not online (online: 0-1); valid: cpus from 0-1, as \"0-3,5\"",
            error.Message);
        Assert.Equal("taskstats.shards[1]", error.Key);
        Assert.Equal("1-2", error.Value);
    }

    [Fact]
    public void Empty_mask_should_be_refused()
    {
        var error = Refused("taskstats.shards = [\"0\", \"\"]");

        Assert.Equal(
            "taskstats.shards[1] = \"\": the cpu mask is empty, so its listener would hear no cpu; valid: cpus from 0-1, as \"0-3,5\"",
            error.Message);
    }

    [Fact]
    public void Empty_list_of_shards_should_be_refused()
    {
        var error = Refused("taskstats.shards = []");

        Assert.Equal("taskstats.shards", error.Key);
        Assert.StartsWith("taskstats.shards = \"[]\": the list of shards is empty, so no listener would run", error.Message);
        Assert.Contains("valid: auto, or a list of disjoint cpu masks", error.Message);
    }

    [Fact]
    public void Unparsable_mask_should_be_refused_with_the_parser_reason()
    {
        var error = Refused("taskstats.shards = [\"0-x\"]");

        Assert.Equal(
            "taskstats.shards[0] = \"0-x\": invalid cpu list \"0-x\": \"0-x\" is not a cpu number or range; valid: cpus from 0-1, as \"0-3,5\"",
            error.Message);
    }

    [Fact]
    public void Shards_neither_auto_nor_a_list_should_be_refused()
    {
        var error = Refused("taskstats.shards = automatic");

        Assert.StartsWith("taskstats.shards = \"automatic\": is neither auto nor a list of cpu masks; valid: auto, or a list", error.Message);
    }

    [Fact]
    public void Bad_cpus_per_shard_should_be_refused()
    {
        var error = Refused("taskstats.cpus-per-shard = 0");

        Assert.Equal(
            "taskstats.cpus-per-shard = \"0\": is not positive; valid: auto, or a whole number of cpus per listener, at least 1",
            error.Message);
    }

    [Fact]
    public void Receive_buffer_above_max_receive_buffer_should_be_refused()
    {
        var error = Refused("taskstats { receive-buffer = 128 MiB, max-receive-buffer = 64 MiB }");

        Assert.Equal("taskstats.receive-buffer", error.Key);
        Assert.Equal("128 MiB", error.Value);
        Assert.Equal(
            "taskstats.receive-buffer = \"128 MiB\": is larger than taskstats.max-receive-buffer = 64 MiB; " +
            "valid: a size up to taskstats.max-receive-buffer (the watchdog only grows a buffer)",
            error.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-4 MiB")]
    public void Non_positive_receive_buffer_should_be_refused(string size)
    {
        var error = Refused($"taskstats.receive-buffer = {size}");

        Assert.StartsWith($"taskstats.receive-buffer = \"{size}\": is not positive; valid: a size such as 4 MiB", error.Message);
        Assert.Contains("from 1 byte to 1 GiB", error.Message);
    }

    [Fact]
    public void Receive_buffer_that_is_not_a_size_should_be_refused()
    {
        var error = Refused("taskstats.max-receive-buffer = lots");

        Assert.StartsWith("taskstats.max-receive-buffer = \"lots\": is not a size; valid: a size such as 4 MiB", error.Message);
    }

    [Fact]
    public void Receive_buffer_beyond_the_kernel_cap_should_be_refused()
    {
        var error = Refused("taskstats.max-receive-buffer = 2 GiB");

        Assert.StartsWith("taskstats.max-receive-buffer = \"2 GiB\": is too large; valid:", error.Message);
    }

    [Fact]
    public void Unknown_delay_accounting_should_be_refused_listing_the_choices()
    {
        var error = Refused("taskstats.delay-accounting = force");

        Assert.Equal("taskstats.delay-accounting = \"force\": is not a known value; valid: warn | enable | require", error.Message);
    }

    [Theory]
    [InlineData("batch-size = 0", "taskstats.batch-size = \"0\": is not positive; valid: a whole number from 1 to 65536")]
    [InlineData("stream-buffer = many", "taskstats.stream-buffer = \"many\": is not a whole number; valid: a whole number from 1 to 65536")]
    [InlineData("aggregate.top = 0", "taskstats.aggregate.top = \"0\": is not positive; valid: a whole number from 1 to 10000")]
    [InlineData("aggregate.window = 0s", "taskstats.aggregate.window = \"0s\": is not positive; valid: a positive duration such as 10s, 500ms or 1m")]
    [InlineData("watchdog.reset-after = soon", "taskstats.watchdog.reset-after = \"soon\": is not a duration; valid: a positive duration such as 10s, 500ms or 1m")]
    [InlineData("status-interval = -1s", "taskstats.status-interval = \"-1s\": is negative; valid: a duration such as 10s, 500ms or 1m; 0 or off turns it off")]
    [InlineData("pin-listeners = maybe", "taskstats.pin-listeners = \"maybe\": is not on or off; valid: on or off (also true/false, yes/no)")]
    [InlineData("watchdog { min-backoff = 5s, max-backoff = 1s }", "taskstats.watchdog.max-backoff = \"1s\": is shorter than taskstats.watchdog.min-backoff = 5s; valid: a duration at least min-backoff")]
    public void Bad_scalar_should_be_refused(string line, string message) =>
        Assert.Equal(message, Refused("taskstats." + line).Message);

    [Fact]
    public void Quiet_linger_shorter_than_batch_linger_should_be_refused() =>
        Assert.Equal("taskstats.quiet-linger = \"40ms\": is shorter than taskstats.batch-linger = 50ms; valid: a duration at least batch-linger, or off",
            Refused("taskstats { batch-linger = 50ms, quiet-linger = 40ms }").Message);

    [Fact]
    public void Sink_without_class_should_be_refused()
    {
        var error = Refused("taskstats.sinks.mine { buffer = 8 }");

        Assert.Equal("taskstats.sinks.mine.class", error.Key);
        Assert.Null(error.Value);
        Assert.Equal(
            "taskstats.sinks.mine.class: is missing: every sink names its class; valid: \"Namespace.Type, Assembly\", " +
            "e.g. \"TaskstatsActors.Collector.Sinks.ConsoleSink, TaskstatsActors.Collector\"",
            error.Message);
    }

    [Fact]
    public void Sink_class_missing_from_its_assembly_should_be_refused_naming_assembly_and_type()
    {
        var error = Refused("taskstats.sinks.mine.class = \"TaskstatsActors.Collector.Sinks.NoSuchSink, TaskstatsActors.Collector\"");

        Assert.StartsWith(
            "taskstats.sinks.mine.class = \"TaskstatsActors.Collector.Sinks.NoSuchSink, TaskstatsActors.Collector\": " +
            "assembly TaskstatsActors.Collector loaded, but has no type TaskstatsActors.Collector.Sinks.NoSuchSink; " +
            "valid: \"Namespace.Type, Assembly\" naming a public class that derives from TaskstatsActors.Collector.Sinks.TaskstatsSink",
            error.Message);
    }

    [Fact]
    public void Sink_class_from_a_missing_assembly_should_be_refused_naming_the_assembly()
    {
        var error = Refused("taskstats.sinks.mine.class = \"My.Sink, My.Missing.Assembly\"");

        Assert.Contains("taskstats.sinks.mine.class = \"My.Sink, My.Missing.Assembly\": assembly My.Missing.Assembly", error.Message);
        Assert.Contains("was not found beside the executable", error.Message);
        Assert.Contains("no assembly-path is given", error.Message);
        Assert.Contains("valid: ", error.Message);
    }

    [Fact]
    public void Sink_class_whose_assembly_path_does_not_exist_should_say_so()
    {
        var missing = _fixture.PathOf("plugins/My.Sinks.dll");

        var error = Refused($"taskstats.sinks.mine {{ class = \"My.Sink, My.Sinks\", assembly-path = {SettingsFixture.Quote(missing)} }}");

        Assert.Equal("taskstats.sinks.mine.class", error.Key);
        Assert.Contains($"assembly-path \"{missing}\" is {missing}, which does not exist", error.Message);
        Assert.Contains("valid: \"Namespace.Type, Assembly\"", error.Message);
    }

    [Fact]
    public void Sink_class_whose_assembly_path_is_no_assembly_should_say_so()
    {
        var notAnAssembly = _fixture.Write("plugins/notes.dll", "not an assembly");

        var error = Refused($"taskstats.sinks.mine {{ class = \"My.Sink, notes\", assembly-path = {SettingsFixture.Quote(notAnAssembly)} }}");

        Assert.Contains($"assembly-path {notAnAssembly} exists but is not a .NET assembly", error.Message);
    }

    [Fact]
    public void Sink_class_that_does_not_derive_from_TaskstatsSink_should_be_refused()
    {
        var error = Refused("taskstats.sinks.mine.class = \"TaskstatsActors.Collector.Tests.Settings.NotASink, TaskstatsActors.Collector.Tests\"");

        Assert.Equal("taskstats.sinks.mine.class", error.Key);
        Assert.Equal("TaskstatsActors.Collector.Tests.Settings.NotASink, TaskstatsActors.Collector.Tests", error.Value);
        Assert.Contains(
            ": TaskstatsActors.Collector.Tests.Settings.NotASink is not a sink: it does not derive from TaskstatsActors.Collector.Sinks.TaskstatsSink; valid: ",
            error.Message);
    }

    [Fact]
    public void Sink_class_without_a_SinkContext_constructor_should_be_refused()
    {
        var error = Refused(
            "taskstats.sinks.mine.class = \"TaskstatsActors.Collector.Tests.Settings.SinkWithoutContextConstructor, TaskstatsActors.Collector.Tests\"");

        Assert.Contains("SinkWithoutContextConstructor is not a usable sink: it has no public constructor taking a SinkContext", error.Message);
        Assert.Contains("valid: ", error.Message);
    }

    [Fact]
    public void Abstract_sink_class_should_be_refused()
    {
        var error = Refused(
            "taskstats.sinks.mine.class = \"TaskstatsActors.Collector.Tests.Settings.AbstractTestSink, TaskstatsActors.Collector.Tests\"");

        Assert.Contains("AbstractTestSink is abstract, so it cannot be created", error.Message);
    }

    [Fact]
    public void Sink_path_whose_directory_cannot_be_created_should_be_refused()
    {
        // A regular file where a directory should be: even root cannot create a directory under it.
        var blocker = _fixture.Write("blocker", "a file");
        var path = Path.Combine(blocker, "sub", "exits.jsonl");

        var error = Refused($"taskstats.sinks.mine {{ class = \"{TestSinkClass}\", path = {SettingsFixture.Quote(path)} }}");

        Assert.Equal("taskstats.sinks.mine.path", error.Key);
        Assert.Equal(path, error.Value);
        Assert.StartsWith($"taskstats.sinks.mine.path = \"{path}\": cannot create its directory {Path.GetDirectoryName(path)}: ", error.Message);
        Assert.EndsWith("; valid: a file path the collector can write (relative paths start at the working directory)", error.Message);
    }

    [Fact]
    public void Sink_path_that_is_a_directory_should_be_refused()
    {
        var error = Refused($"taskstats.sinks.mine {{ class = \"{TestSinkClass}\", path = {SettingsFixture.Quote(_fixture.Root)} }}");

        Assert.Contains($"{_fixture.Root} is a directory, not a file", error.Message);
    }

    [Fact]
    public void Two_sinks_writing_one_file_should_be_refused()
    {
        var path = _fixture.PathOf("out/exits.jsonl");

        var error = Refused(
            $"taskstats.sinks {{\n a {{ class = \"{TestSinkClass}\", path = {SettingsFixture.Quote(path)} }}\n" +
            $" b {{ class = \"{TestSinkClass}\", path = {SettingsFixture.Quote(path)} }}\n}}");

        Assert.StartsWith($"taskstats.sinks.b.path = \"{path}\": is also the path of taskstats.sinks.a", error.Message);
    }

    [Fact]
    public void Unknown_overflow_policy_should_be_refused()
    {
        var error = Refused($"taskstats.sinks.mine {{ class = \"{TestSinkClass}\", overflow = block }}");

        Assert.Equal("taskstats.sinks.mine.overflow = \"block\": is not a known value; valid: backpressure | drop", error.Message);
    }

    [Theory]
    [InlineData("0", "is not positive")]
    [InlineData("-5", "is not positive")]
    [InlineData("lots", "is not a whole number")]
    public void Bad_sink_buffer_should_be_refused(string buffer, string problem)
    {
        var error = Refused($"taskstats.sinks.mine {{ class = \"{TestSinkClass}\", buffer = {buffer} }}");

        Assert.Equal($"taskstats.sinks.mine.buffer = \"{buffer}\": {problem}; valid: a whole number from 1 to 1048576", error.Message);
    }

    [Fact]
    public void Sink_that_is_not_a_block_should_be_refused()
    {
        var error = Refused("taskstats.sinks.mine = yes");

        Assert.StartsWith("taskstats.sinks.mine = \"yes\": is not a sink block; valid: mine { class = ", error.Message);
    }
}
