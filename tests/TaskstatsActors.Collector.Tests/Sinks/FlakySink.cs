using System.Collections.Concurrent;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks;

namespace TaskstatsActors.Collector.Tests.Sinks;

/// <summary>
/// A sink that records the pids it is handed and throws the first time it sees the batch starting at
/// <see cref="Journal.FailOnSequence"/>. Its state lives in the <see cref="Journal"/>, outside the
/// actor, because a restart replaces the instance.
/// </summary>
internal sealed class FlakySink : TaskstatsSink
{
    private readonly Journal _journal;

    public FlakySink(SinkContext context, Journal journal) : base(context) => _journal = journal;

    protected override void OnStart() => Interlocked.Increment(ref _journal.Starts);

    protected override void OnRecords(ExitBatch batch)
    {
        Interlocked.Increment(ref _journal.Seen);
        if (batch.Messages[0].Sequence == _journal.FailOnSequence && Interlocked.Exchange(ref _journal.Thrown, 1) == 0)
            throw new IOException("disk hiccup");
        foreach (var message in batch.Messages)
            _journal.Written.Enqueue(message.Task!.Value.Id);
    }

    protected override void OnFlush() => Interlocked.Increment(ref _journal.Flushes);

    internal sealed class Journal(uint failOnSequence)
    {
        public readonly uint FailOnSequence = failOnSequence;
        public readonly ConcurrentQueue<uint> Written = new();
        public int Starts;
        public int Seen;
        public int Thrown;
        public int Flushes;
    }
}
