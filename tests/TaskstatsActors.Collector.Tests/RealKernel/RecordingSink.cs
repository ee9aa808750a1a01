using System.Collections.Concurrent;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks;

namespace TaskstatsActors.Collector.Tests.RealKernel;

/// <summary>
/// A sink for real-kernel tests, loaded through HOCON: records every event it receives under its
/// config key <c>run-id</c>, and can be made deliberately slow (<c>delay-ms</c> per batch) to force
/// the stream to backpressure.
/// </summary>
public sealed class RecordingSink : TaskstatsSink
{
    /// <summary>Events received, per run id, in order.</summary>
    public static readonly ConcurrentDictionary<string, ConcurrentQueue<CollectorEvent>> Runs = new();

    private readonly ConcurrentQueue<CollectorEvent> _events;
    private readonly int _delayMs;

    public RecordingSink(SinkContext context) : base(context)
    {
        _events = Runs.GetOrAdd(context.Config.GetString("run-id"), _ => new ConcurrentQueue<CollectorEvent>());
        _delayMs = context.Config.GetInt("delay-ms", 0);
    }

    protected override void OnRecords(ExitBatch batch)
    {
        _events.Enqueue(batch);
        if (_delayMs > 0)
            Thread.Sleep(_delayMs); // the point of this sink: it is slow
    }

    protected override void OnLoss(RecordsLost loss) => _events.Enqueue(loss);

    protected override void OnListenerRestarted(ListenerRestarted restart) => _events.Enqueue(restart);
}
