using System.Threading.Channels;
using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks;
using Xunit.Abstractions;
using static TaskstatsActors.Collector.Tests.AggregationSpecs.Exits;

namespace TaskstatsActors.Collector.Tests.AggregationSpecs;

public sealed class AggregatorActorSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly SinkContext Context = new("aggregator", Config.Empty, [Shard]);

    private static readonly CollectorEvent[] Events =
    [
        Batch(Task(1, "a"), Task(2, "a")),
        Loss(4),
        Batch(Task(3, "b")),
    ];

    private IActorRef Start(TimeSpan window, ChannelWriter<CollectorEvent> summaries)
    {
        var aggregator = Sys.ActorOf(AggregatorActor.Props(Context, window, top: 5, summaries));
        Watch(aggregator);
        return aggregator;
    }

    private static Sink<CollectorEvent, NotUsed> Into(IActorRef aggregator) =>
        Sink.ActorRefWithAck<CollectorEvent>(aggregator, SinkProtocol.Init.Instance, SinkProtocol.Ack.Instance,
            SinkProtocol.Complete.Instance, ex => new SinkProtocol.Failed(ex));

    /// <summary>Runs <see cref="Events"/> into the aggregator and keeps the stream open until the returned source is completed.</summary>
    private TaskCompletionSource<CollectorEvent?> RunOpen(IActorRef aggregator) =>
        Source.From(Events)
            .ConcatMaterialized(Source.Maybe<CollectorEvent>(), Keep.Right)
            .To(Into(aggregator))
            .Run(Sys.Materializer());

    private static async Task<WindowSummaryData> NextAsync(ChannelReader<CollectorEvent> reader)
    {
        var e = await reader.ReadAsync().AsTask().WaitAsync(Patience);
        return Assert.IsType<WindowSummary>(e).Data;
    }

    /// <summary>Reads summaries until the aggregator completes the channel.</summary>
    private static async Task<List<WindowSummaryData>> DrainAsync(ChannelReader<CollectorEvent> reader)
    {
        var all = new List<WindowSummaryData>();
        using var timeout = new CancellationTokenSource(Patience);
        await foreach (var e in reader.ReadAllAsync(timeout.Token))
            all.Add(Assert.IsType<WindowSummary>(e).Data);
        return all;
    }

    [Fact]
    public async Task Aggregator_should_write_the_partial_window_and_complete_the_channel_when_the_stream_ends()
    {
        var channel = Channel.CreateUnbounded<CollectorEvent>();
        // An hour-long window: no timer fires during the test, so the one summary is the flush's.
        var aggregator = Start(TimeSpan.FromHours(1), channel.Writer);

        Source.From(Events).RunWith(Into(aggregator), Sys.Materializer());

        var summaries = await DrainAsync(channel.Reader);
        var summary = Assert.Single(summaries);
        Assert.Equal((3L, 4L), (summary.Exits, summary.Lost));
        Assert.Equal(["a", "b"], summary.ByCommand.Select(g => g.Key));
        Assert.Equal([2L, 1L], summary.ByCommand.Select(g => g.Exits));
        Assert.True(summary.Start <= summary.End);
        await ExpectTerminatedAsync(aggregator, Patience);
    }

    [Fact]
    public async Task Aggregator_should_close_windows_on_its_timer_while_the_stream_runs()
    {
        var channel = Channel.CreateUnbounded<CollectorEvent>();
        var window = TimeSpan.FromMilliseconds(200);
        var aggregator = Start(window, channel.Writer);
        var open = RunOpen(aggregator);

        // Three windows closed by the timer, with the stream still open.
        var timed = new List<WindowSummaryData>();
        for (var i = 0; i < 3; i++)
            timed.Add(await NextAsync(channel.Reader));

        open.TrySetResult(null);
        var rest = await DrainAsync(channel.Reader);
        await ExpectTerminatedAsync(aggregator, Patience);

        var all = timed.Concat(rest).ToList();
        Assert.Equal(3, all.Sum(s => s.Exits));
        Assert.Equal(4, all.Sum(s => s.Lost));
        for (var i = 1; i < all.Count; i++)
            Assert.Equal(all[i - 1].End, all[i].Start);
        // Timer windows are window-sized (the first between half and one and a half windows); the bound is loose for busy CI hosts.
        Assert.All(timed.Skip(1), s => Assert.InRange(s.End - s.Start, TimeSpan.Zero, 10 * window));
        Assert.All(timed, s => Assert.True(s.Start < s.End));
    }

    [Fact]
    public async Task Aggregator_should_drop_and_log_a_summary_when_the_channel_is_full_without_blocking()
    {
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Warning));
        // Nobody reads: the first summary fills the channel.
        var channel = Channel.CreateBounded<CollectorEvent>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.Wait });
        var aggregator = Start(TimeSpan.FromMilliseconds(200), channel.Writer);
        var open = RunOpen(aggregator);

        await warnings.FishForMessageAsync<Warning>(w => w.Message.ToString()!.Contains("summary channel full"), Patience);

        // Still answering the stream: completion reaches it, and it stops.
        open.TrySetResult(null);
        await ExpectTerminatedAsync(aggregator, Patience);
        var kept = await DrainAsync(channel.Reader);
        Assert.Single(kept);
    }

    [Theory]
    [InlineData("2025-01-01T12:00:03Z", 10_000, "2025-01-01T12:00:10Z")]
    [InlineData("2025-01-01T12:00:10Z", 10_000, "2025-01-01T12:00:20Z")] // strictly after
    [InlineData("2025-01-01T12:00:09.999Z", 10_000, "2025-01-01T12:00:10Z")]
    [InlineData("2025-01-01T12:00:00.150Z", 200, "2025-01-01T12:00:00.200Z")]
    [InlineData("2025-01-01T12:59:30+02:00", 60_000, "2025-01-01T11:00:00Z")] // multiples of UTC time
    public void Window_boundaries_should_be_multiples_of_the_window_on_the_wall_clock(string time, int windowMs, string expected)
    {
        var next = AggregatorActor.NextBoundary(DateTimeOffset.Parse(time), TimeSpan.FromMilliseconds(windowMs));
        Assert.Equal(DateTimeOffset.Parse(expected), next);
    }
}
