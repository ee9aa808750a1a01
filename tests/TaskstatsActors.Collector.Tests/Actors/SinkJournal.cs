using System.Collections.Concurrent;
using Akka.Configuration;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Sinks;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>
/// What one <see cref="JournalSink"/> saw, and how it should behave: it lives outside the actor because a
/// restart replaces the instance, and the collector creates sinks from a type and a config block only
/// (the block's <c>journal</c> key names the journal).
/// </summary>
public sealed class SinkJournal : IDisposable
{
    private static readonly ConcurrentDictionary<string, SinkJournal> Registry = new();

    /// <summary>Longest a closed gate holds a handler: a broken test fails instead of hanging.</summary>
    private static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(60);

    private readonly ManualResetEventSlim _gate = new(initialState: true);
    private int _thrown, _starts, _stops, _flushes, _attempts, _batches, _held;

    private SinkJournal(string id) => Id = id;

    public string Id { get; }

    public static SinkJournal Create()
    {
        var journal = new SinkJournal(Guid.NewGuid().ToString("N"));
        Registry[journal.Id] = journal;
        return journal;
    }

    /// <summary>Lets any held handler go and forgets the journal.</summary>
    public void Dispose()
    {
        Open();
        Registry.TryRemove(Id, out _);
    }

    internal static SinkJournal Of(SinkContext context) => Registry[context.Config.GetString("journal")];

    /// <summary>Settings for a <see cref="JournalSink"/> writing to this journal.</summary>
    public SinkSettings Settings(string name, int buffer = 16, SinkOverflow overflow = SinkOverflow.Backpressure) =>
        new(name, typeof(JournalSink), buffer, overflow, ConfigurationFactory.ParseString($"journal = \"{Id}\""));

    /// <summary>A batch for which this returns true makes the handler throw, once.</summary>
    public Func<ExitBatch, bool>? FailOn { get; set; }

    /// <summary>Holds every batch handler until <see cref="Open"/>: the sink stops acknowledging, so the stream backpressures.</summary>
    public void Close() => _gate.Reset();

    /// <summary>Lets held and later batches through.</summary>
    public void Open() => _gate.Set();

    /// <summary>True while a handler waits at the closed gate.</summary>
    public bool Holding => Volatile.Read(ref _held) == 1;

    /// <summary>Every exit message handled (after a successful handler run), in order.</summary>
    public ConcurrentQueue<ExitKey> Received { get; } = new();

    /// <summary>The number of messages in each batch handled, in order.</summary>
    public ConcurrentQueue<int> BatchSizes { get; } = new();

    public ConcurrentQueue<RecordsLost> Losses { get; } = new();

    public ConcurrentQueue<ListenerRestarted> Restarts { get; } = new();

    public int Thrown => Volatile.Read(ref _thrown);
    public int Starts => Volatile.Read(ref _starts);
    public int Stops => Volatile.Read(ref _stops);
    public int Flushes => Volatile.Read(ref _flushes);
    /// <summary>Batches handed to the handler, a re-delivered one counted again.</summary>
    public int Attempts => Volatile.Read(ref _attempts);
    /// <summary>Batches handled successfully.</summary>
    public int Batches => Volatile.Read(ref _batches);
    /// <summary>How many messages had been received when the sink flushed (-1: not flushed).</summary>
    public int ReceivedAtFlush { get; private set; } = -1;

    internal void Started() => Interlocked.Increment(ref _starts);

    internal void Stopped() => Interlocked.Increment(ref _stops);

    internal void Flushed()
    {
        ReceivedAtFlush = Received.Count;
        Interlocked.Increment(ref _flushes);
    }

    internal void Take(ExitBatch batch)
    {
        Interlocked.Increment(ref _attempts);
        if (!_gate.IsSet)
        {
            Volatile.Write(ref _held, 1);
            _gate.Wait(MaxHold);
            Volatile.Write(ref _held, 0);
        }
        if (FailOn is { } failOn && failOn(batch) && Interlocked.CompareExchange(ref _thrown, 1, 0) == 0)
            throw new IOException($"injected sink failure on a batch of {batch.Messages.Count} starting at #{batch.Messages[0].Sequence}");
        foreach (var message in batch.Messages)
            Received.Enqueue(new ExitKey(batch.Shard.Index, message.Sequence, message.Task?.Id ?? message.Process!.Value.Id));
        BatchSizes.Enqueue(batch.Messages.Count);
        Interlocked.Increment(ref _batches);
    }
}

/// <summary>A sink that writes what it is handed to its <see cref="SinkJournal"/>; gated, or failing, as the journal says.</summary>
public sealed class JournalSink : TaskstatsSink
{
    private readonly SinkJournal _journal;

    public JournalSink(SinkContext context) : base(context) => _journal = SinkJournal.Of(context);

    protected override void OnStart() => _journal.Started();

    protected override void OnRecords(ExitBatch batch) => _journal.Take(batch);

    protected override void OnLoss(RecordsLost loss) => _journal.Losses.Enqueue(loss);

    protected override void OnListenerRestarted(ListenerRestarted restart) => _journal.Restarts.Enqueue(restart);

    protected override void OnFlush() => _journal.Flushed();

    protected override void OnStop() => _journal.Stopped();
}
