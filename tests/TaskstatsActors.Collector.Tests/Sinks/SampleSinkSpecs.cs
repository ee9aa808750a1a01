using System.Reflection;
using System.Text.Json;
using Akka.Actor;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Sinks;

/// <summary>
/// The sample custom sink, loaded as a user's sink is: from a DLL this project does not reference
/// (the build copies it to <c>plugins/</c> beside the tests), by its type name.
/// </summary>
public sealed class SampleSinkSpecs : SinkSpec
{
    public SampleSinkSpecs(ITestOutputHelper output) : base(output) { }

    /// <summary>Where the test project's build puts the sample sink.</summary>
    public static readonly string PluginPath = Path.Combine(AppContext.BaseDirectory, "plugins", "TaskstatsActors.SampleSink.dll");

    private static Type SinkType()
    {
        Assert.True(File.Exists(PluginPath), $"the build should have copied the sample sink to {PluginPath}");
        var type = Assembly.LoadFrom(PluginPath).GetType("TaskstatsActors.SampleSink.CommandCountSink", throwOnError: true)!;
        Assert.True(typeof(TaskstatsSink).IsAssignableFrom(type), $"{type} should derive from TaskstatsSink");
        return type;
    }

    private static IEnumerable<CollectorEvent> Events()
    {
        var events = SinkEvents.Exits(batches: 2, perBatch: 4, comm: "make").Cast<CollectorEvent>().ToList();
        events.AddRange(SinkEvents.Exits(batches: 1, perBatch: 3, comm: "cc1"));
        events.Add(new ExitBatch(SinkEvents.Shard0, [SinkEvents.LastThread(40, 4243, 4242, "java")], SinkEvents.T0));
        events.Add(SinkEvents.Loss(5));
        return events;
    }

    [Fact]
    public void CommandCountSink_should_count_exits_per_command_and_write_a_json_report_on_flush()
    {
        var path = PathOf("reports/commands.json");
        var sink = Sys.ActorOf(Props.Create(SinkType(), Context("commands", $"path = \"{path}\"")));

        RunToEnd(sink, Events());

        using var report = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal(5, report.RootElement.GetProperty("lost").GetInt64());
        var exits = report.RootElement.GetProperty("exits").EnumerateObject().Select(p => (p.Name, p.Value.GetInt64())).ToList();
        // One exit per message: the java process record is not counted again.
        Assert.Equal([("make", 8L), ("cc1", 3L), ("java", 1L)], exits);
    }

    [Fact]
    public void CommandCountSink_should_count_only_the_configured_prefix_and_write_csv_for_a_csv_path()
    {
        var path = PathOf("commands.csv");
        var sink = Sys.ActorOf(Props.Create(SinkType(), Context("commands", $"path = \"{path}\"\nonly-comm-prefix = \"c\"")));

        RunToEnd(sink, Events());

        Assert.Equal("comm,exits\ncc1,3\n", File.ReadAllText(path));
    }
}
