using System.Globalization;
using Akka.Actor;
using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks;
using TaskstatsActors.Kernel.Taskstats;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Sinks;

public sealed class ConsoleSinkSpecs : SinkSpec
{
    private readonly ITestOutputHelper _output;

    public ConsoleSinkSpecs(ITestOutputHelper output) : base(output) => _output = output;

    private string Run(string hocon, IEnumerable<CollectorEvent> events)
    {
        // Synchronized: the sink writes on its dispatcher thread; the spec reads after it stopped.
        var captured = new StringWriter(CultureInfo.InvariantCulture);
        var writer = TextWriter.Synchronized(captured);
        RunToEnd(Sys.ActorOf(Props.Create(() => new ConsoleSink(Context("console", hocon), writer))), events);
        var text = captured.ToString();
        _output.WriteLine(text);
        return text;
    }

    private static string Clock(DateTimeOffset time) => time.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    [Fact]
    public void ConsoleSink_should_print_a_table_per_window_and_a_line_per_loss_and_restart_but_no_records()
    {
        var text = Run("", [.. SinkEvents.Exits(2, 5), SinkEvents.Window(), SinkEvents.Loss(123), SinkEvents.Restart()]);

        var lines = text.Split('\n');
        Assert.Contains($"== {Clock(SinkEvents.T0)} - {Clock(SinkEvents.T0.AddSeconds(10))}: 150 exits, 7 lost ==", lines);
        var byExits = Array.IndexOf(lines, "top commands by exits");
        Assert.True(byExits >= 0, "no table of commands by exits");
        Assert.Matches(@"^\s+COMMAND\s+EXITS\s+CPU ms\s+CPU-DELAY ms", lines[byExits + 1]);
        // make: 120 exits, 48 ms CPU, 3.6 ms CPU delay, longest 0.09 ms, 2 ms block I/O.
        Assert.Matches(@"^\s+make\s+120\s+48\s+3\.6\s+0\.09\s+2\s", lines[byExits + 2]);
        Assert.Matches(@"^\s+cc1\s+30\s+2400\s+450\s+5\s", lines[byExits + 3]);
        var byDelay = Array.IndexOf(lines, "top commands by CPU delay");
        Assert.True(byDelay > byExits, "no table of commands by CPU delay after the first");
        // cc1 first: 450 ms over 900 delays, 500 us on average.
        Assert.Matches(@"^\s+cc1\s+30\s+450\s+900\s+500\.0\s+5$", lines[byDelay + 2]);

        Assert.Contains($"LOST 123 records on shard 1 (cpus 1) at {Clock(SinkEvents.T0.AddSeconds(1))} (socket drop counter)", lines);
        Assert.Contains($"RESTARTED listener of shard 1 (cpus 1) at {Clock(SinkEvents.T0.AddSeconds(2))}: overflow; receive buffer 8 MiB", lines);
        Assert.DoesNotContain("worker", text);
    }

    [Fact]
    public void ConsoleSink_should_print_one_short_line_per_record_when_records_is_on()
    {
        var batch = new ExitBatch(SinkEvents.Shard0, [SinkEvents.LastThread(7, 4243, 4242, "java")], SinkEvents.T0);

        var text = Run("records = on", [.. SinkEvents.Exits(2, 5), batch]);

        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(12, lines.Length);
        Assert.Equal("shard 0 seq 1 pid 1000 worker exit 0 cpu 1.5ms cpu-delay 0.03ms", lines[0]);
        Assert.StartsWith("shard 1 seq 5 pid 1009 worker", lines[9]);
        Assert.StartsWith("shard 0 seq 7 tgid 4242 java", lines[11]);
    }

    [Fact]
    public void ConsoleSink_should_say_so_when_a_window_saw_no_exits()
    {
        var empty = new WindowSummary(SinkEvents.Window().Data with
        {
            Exits = 0,
            Lost = 0,
            ByCommand = [],
            TopByDelay = new Dictionary<DelayCategory, IReadOnlyList<GroupFigures>>(),
        });

        var text = Run("", [empty]);

        Assert.Contains(": 0 exits, 0 lost ==", text);
        Assert.Contains("  (none)", text);
        Assert.DoesNotContain("by CPU delay", text);
    }
}
