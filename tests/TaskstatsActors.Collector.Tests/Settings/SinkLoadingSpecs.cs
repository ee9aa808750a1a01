using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Sinks;

namespace TaskstatsActors.Collector.Tests.Settings;

/// <summary>Sink classes named in HOCON, loaded by type name, optionally from an assembly file.</summary>
public sealed class SinkLoadingSpecs : IDisposable
{
    private const string TestSinkType = "TaskstatsActors.Collector.Tests.Settings.NullTestSink";
    private const string TestAssembly = "TaskstatsActors.Collector.Tests";

    private readonly SettingsFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static string TestAssemblyFile => typeof(NullTestSink).Assembly.Location;

    private CollectorSettings Load(string hocon) => SettingsLoader.Load(SettingsFixture.Hocon(hocon), _fixture.Sysfs("0-1"));

    [Fact]
    public void Sink_should_get_common_defaults_and_its_whole_block()
    {
        var settings = Load($"taskstats.sinks.mine {{ class = \"{TestSinkType}, {TestAssembly}\", colour = blue }}");

        var sink = Assert.Single(settings.Sinks);
        Assert.Equal("mine", sink.Name);
        Assert.Equal(typeof(NullTestSink), sink.Type);
        Assert.Equal((64, SinkOverflow.Backpressure), (sink.Buffer, sink.Overflow));
        Assert.Equal("blue", sink.Config.GetString("colour"));
        Assert.Empty(settings.Warnings);
    }

    [Fact]
    public void Sinks_should_keep_config_order_and_their_own_buffer_and_overflow()
    {
        var settings = Load(
            $"taskstats.sinks {{\n b {{ class = \"{TestSinkType}, {TestAssembly}\", buffer = 8, overflow = drop }}\n" +
            $" a {{ class = \"{TestSinkType}, {TestAssembly}\", buffer = 1000, overflow = BACKPRESSURE }}\n}}");

        Assert.Equal(["b", "a"], settings.Sinks.Select(sink => sink.Name));
        Assert.Equal((8, SinkOverflow.Drop), (settings.Sinks[0].Buffer, settings.Sinks[0].Overflow));
        Assert.Equal((1000, SinkOverflow.Backpressure), (settings.Sinks[1].Buffer, settings.Sinks[1].Overflow));
    }

    [Fact]
    public void Sink_class_should_load_from_an_absolute_assembly_path()
    {
        var settings = Load(
            $"taskstats.sinks.mine {{ class = \"{TestSinkType}, {TestAssembly}\", assembly-path = {SettingsFixture.Quote(TestAssemblyFile)} }}");

        Assert.Equal(typeof(NullTestSink), Assert.Single(settings.Sinks).Type);
    }

    [Fact]
    public void Sink_class_should_load_from_an_assembly_path_relative_to_the_config_file()
    {
        // A copy of an assembly already loaded resolves to the loaded one; what this shows is that
        // "plugins/..." is looked up beside the config file, not in the working directory.
        var plugin = _fixture.PathOf("conf/plugins/" + Path.GetFileName(TestAssemblyFile));
        Directory.CreateDirectory(Path.GetDirectoryName(plugin)!);
        File.Copy(TestAssemblyFile, plugin);
        var file = _fixture.Write("conf/taskstats.conf",
            $"taskstats.sinks.mine {{\n  class = \"{TestSinkType}, {TestAssembly}\"\n  assembly-path = \"plugins/{Path.GetFileName(plugin)}\"\n}}\n");

        var settings = SettingsLoader.Load(SettingsLoader.ParseFile(file), _fixture.Sysfs("0-1"));

        var sink = Assert.Single(settings.Sinks);
        Assert.Equal(typeof(NullTestSink), sink.Type);
        Assert.Equal(plugin, sink.Config.GetString("assembly-path"));
    }

    [Fact]
    public void Relative_assembly_path_should_be_reported_against_the_config_file_directory()
    {
        var file = _fixture.Write("conf/taskstats.conf",
            "taskstats.sinks.mine { class = \"My.Sink, My.Sinks\", assembly-path = \"plugins/My.Sinks.dll\" }\n");

        var error = Assert.Throws<ConfigException>(() => SettingsLoader.Load(SettingsLoader.ParseFile(file), _fixture.Sysfs("0-1")));

        Assert.Contains($"{_fixture.PathOf("conf/plugins/My.Sinks.dll")}, which does not exist", error.Message);
    }

    [Fact]
    public void Sink_class_without_assembly_part_should_be_found_in_the_assembly_path()
    {
        var settings = Load(
            $"taskstats.sinks.mine {{ class = \"{TestSinkType}\", assembly-path = {SettingsFixture.Quote(TestAssemblyFile)} }}");

        Assert.Equal(typeof(NullTestSink), Assert.Single(settings.Sinks).Type);
    }

    [Fact]
    public void Built_in_sink_should_load_from_the_collector_dll_as_a_plugin()
    {
        var collector = typeof(TaskstatsSink).Assembly.Location;

        var type = SinkTypeLoader.Load("taskstats.sinks.raw", "TaskstatsActors.Collector.Sinks.RawSink, TaskstatsActors.Collector", collector);

        Assert.Equal("TaskstatsActors.Collector.Sinks.RawSink", type.FullName);
        Assert.Same(typeof(TaskstatsSink).Assembly, type.Assembly);
    }

    [Fact]
    public void Collector_type_should_load_without_naming_its_assembly()
    {
        var type = SinkTypeLoader.Load("taskstats.sinks.raw", "TaskstatsActors.Collector.Sinks.RawSink", null);

        Assert.Equal("TaskstatsActors.Collector.Sinks.RawSink", type.FullName);
    }

    [Fact]
    public void Class_naming_another_assembly_than_the_assembly_path_should_be_refused()
    {
        var error = Assert.Throws<ConfigException>(() =>
            SinkTypeLoader.Load("taskstats.sinks.mine", $"{TestSinkType}, Other.Assembly", TestAssemblyFile));

        Assert.Equal("taskstats.sinks.mine.class", error.Key);
        Assert.Contains($"the class names assembly Other.Assembly, but assembly-path {TestAssemblyFile} holds assembly {TestAssembly}", error.Message);
    }

    [Fact]
    public void Class_missing_from_the_assembly_path_should_be_refused_naming_both()
    {
        var error = Assert.Throws<ConfigException>(() =>
            SinkTypeLoader.Load("taskstats.sinks.mine", $"No.Such.Sink, {TestAssembly}", TestAssemblyFile));

        Assert.Contains($"assembly {TestAssembly} (from {TestAssemblyFile}) has no type No.Such.Sink", error.Message);
    }

    [Fact]
    public void Class_from_the_assembly_path_that_is_not_a_sink_should_be_refused()
    {
        var error = Assert.Throws<ConfigException>(() =>
            SinkTypeLoader.Load("taskstats.sinks.mine", $"TaskstatsActors.Collector.Tests.Settings.NotASink, {TestAssembly}", TestAssemblyFile));

        Assert.Contains("NotASink is not a sink: it does not derive from TaskstatsActors.Collector.Sinks.TaskstatsSink", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("My.Sink, My, Version=banana")]
    public void Malformed_class_name_should_be_refused(string name)
    {
        var error = Assert.Throws<ConfigException>(() => SinkTypeLoader.Load("taskstats.sinks.mine", name, null));

        Assert.Equal("taskstats.sinks.mine.class", error.Key);
        Assert.Contains("valid: \"Namespace.Type, Assembly\"", error.Message);
    }

    [Fact]
    public void Disabled_sink_should_not_be_loaded()
    {
        var settings = Load(
            $"taskstats.sinks {{\n a {{ class = \"No.Such.Sink, Nowhere\", enabled = off }}\n b {{ class = \"{TestSinkType}, {TestAssembly}\" }}\n}}");

        Assert.Equal(["b"], settings.Sinks.Select(sink => sink.Name));
    }

    [Fact]
    public void Sink_path_should_be_created_and_left_without_a_probe()
    {
        var path = _fixture.PathOf("deep/new/dir/exits.jsonl");

        Load($"taskstats.sinks.mine {{ class = \"{TestSinkType}, {TestAssembly}\", path = {SettingsFixture.Quote(path)} }}");

        Assert.True(Directory.Exists(Path.GetDirectoryName(path)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(path)!));
    }
}
