using System.Diagnostics;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Sinks;
using TaskstatsActors.Collector.Streaming;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Benchmarks;

/// <summary>
/// The collector's real stream, wired as <c>CollectorSupervisor</c> wires it with the default config
/// (stream-buffer 64, aggregate window 10 s and top 20, sink buffer 64 with backpressure), with one
/// <see cref="NullSink"/> as the only sink: bounded channel → broadcast → aggregator actor, and → merge
/// with the window summaries → per-sink buffer → null sink. Records come from a replay of exit
/// messages instead of listeners. The stream buffer can be set, to see what it costs.
/// </summary>
public sealed class GraphHarness : IDisposable
{
    /// <summary>The default config's <c>batch-size</c>: most messages a listener hands on at once.</summary>
    public const int BatchSize = 256;

    /// <summary>The default config's <c>stream-buffer</c>: batches between the listeners and the fan-out.</summary>
    public const int DefaultStreamBuffer = 64;

    private const int SinkBuffer = 64;

    private static readonly ShardInfo Shard = new(0, CpuMask.Single(0));

    private readonly ActorSystem _system;
    private readonly IMaterializer _materializer;
    private readonly int _streamBuffer;
    private int _runs;

    public GraphHarness(int streamBuffer = DefaultStreamBuffer)
    {
        _streamBuffer = streamBuffer;
        _system = ActorSystem.Create("bench", ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.log-dead-letters = off
            """));
        _materializer = _system.Materializer();
    }

    /// <summary>One run's result.</summary>
    public readonly record struct RunResult(long Messages, long Records, TimeSpan Elapsed)
    {
        public double RecordsPerSecond => Records / Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Decodes <paramref name="messages"/> replayed datagrams into batches of <see cref="BatchSize"/>, as a
    /// listener does, and pushes them through a freshly materialized graph; returns when the null sink has
    /// flushed, which is after the aggregator has taken every batch and written its last summary.
    /// </summary>
    public Task<RunResult> DecodeAndRunAsync(ExitCorpus corpus, long messages) =>
        RunAsync(messages, async writer =>
        {
            var datagrams = corpus.Datagrams;
            long sent = 0, records = 0;
            var next = 0;
            while (sent < messages)
            {
                var batch = new List<TaskstatsMessage>(BatchSize);
                while (batch.Count < BatchSize && sent < messages)
                {
                    foreach (var message in NetlinkMessage.Split(datagrams[next]))
                    {
                        var decoded = TaskstatsMessageDecoder.Decode(message);
                        records += (decoded.Task is null ? 0 : 1) + (decoded.Process is null ? 0 : 1);
                        batch.Add(decoded);
                        sent++;
                    }
                    next = next + 1 == datagrams.Count ? 0 : next + 1;
                }
                await writer.WriteAsync(new ExitBatch(Shard, batch, DateTimeOffset.UtcNow));
            }
            return (sent, records);
        });

    /// <summary>
    /// Pushes already decoded batches (reused, round robin) through a fresh graph: the graph's own cost. Whole
    /// batches are sent, so a run may carry up to one batch more than <paramref name="messages"/>.
    /// </summary>
    public Task<RunResult> RunDecodedAsync(IReadOnlyList<List<TaskstatsMessage>> batches, long messages) =>
        RunAsync(messages, async writer =>
        {
            long sent = 0, records = 0;
            var next = 0;
            while (sent < messages)
            {
                var batch = batches[next];
                next = next + 1 == batches.Count ? 0 : next + 1;
                foreach (var message in batch)
                    records += (message.Task is null ? 0 : 1) + (message.Process is null ? 0 : 1);
                sent += batch.Count;
                await writer.WriteAsync(new ExitBatch(Shard, batch, DateTimeOffset.UtcNow));
            }
            return (sent, records);
        });

    private async Task<RunResult> RunAsync(long messages, Func<ChannelWriter<CollectorEvent>, Task<(long Sent, long Records)>> produce)
    {
        var run = Interlocked.Increment(ref _runs);
        var events = Channel.CreateBounded<CollectorEvent>(new BoundedChannelOptions(_streamBuffer)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        var summaries = Channel.CreateBounded<CollectorEvent>(new BoundedChannelOptions(16) { SingleReader = true });
        var context = new SinkContext("aggregator", ConfigurationFactory.Empty, [Shard]);
        var aggregator = _system.ActorOf(AggregatorActor.Props(context, TimeSpan.FromSeconds(10), 20, summaries.Writer), $"aggregator-{run}");
        var sink = new NullSink.Handle();
        var sinkActor = _system.ActorOf(NullSink.Props(new SinkContext("null", ConfigurationFactory.Empty, [Shard]), sink), $"null-{run}");
        var branch = new SinkBranch(sinkActor, SinkBuffer, SinkOverflow.Backpressure, new SinkFigures("null"));
        CollectorGraph.Build(events.Reader, summaries.Reader, aggregator, [branch]).Run(_materializer);

        var clock = Stopwatch.StartNew();
        var (sent, records) = await produce(events.Writer);
        events.Writer.Complete();
        await sink.Flushed;
        clock.Stop();
        if (sink.Messages != sent)
            throw new InvalidOperationException($"the null sink saw {sink.Messages} messages, {sent} were sent");
        return new RunResult(sent, records, clock.Elapsed);
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}

/// <summary>A sink that does nothing but count what reaches it, and says when the stream has ended.</summary>
public sealed class NullSink : TaskstatsSink
{
    private readonly Handle _handle;

    public NullSink(SinkContext context, Handle handle) : base(context) => _handle = handle;

    public static Props Props(SinkContext context, Handle handle) =>
        Akka.Actor.Props.Create(() => new NullSink(context, handle));

    protected override void OnRecords(ExitBatch batch) => _handle.Messages += batch.Messages.Count;

    protected override void OnFlush() => _handle.Done.TrySetResult();

    /// <summary>What the benchmark sees of the sink.</summary>
    public sealed class Handle
    {
        internal readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Messages received (written by the actor only; read after <see cref="Flushed"/>).</summary>
        public long Messages { get; internal set; }

        public Task Flushed => Done.Task;
    }
}
