namespace TaskstatsActors.Collector.Listening;

/// <summary>
/// One shard's running figures, updated by its receive loop with atomic writes and read by the
/// status line and the final summary. Survives listener restarts.
/// </summary>
public sealed class ShardFigures
{
    private long _messages;
    private long _records;
    private long _lost;
    private long _overflows;
    private long _restarts;
    private long _duplicatesDropped;
    private long _malformed;
    private long _sequenceGaps;
    private long _uncertain;
    private long _queuedBytes;
    private long _receiveBuffer;

    /// <summary>Exit messages delivered to the stream.</summary>
    public long Messages => Interlocked.Read(ref _messages);
    /// <summary>Records (task + process) delivered to the stream.</summary>
    public long Records => Interlocked.Read(ref _records);
    /// <summary>Exit messages lost (socket drop counters, and sequence gaps across a fault restart).</summary>
    public long Lost => Interlocked.Read(ref _lost);
    /// <summary><c>ENOBUFS</c> incidents.</summary>
    public long Overflows => Interlocked.Read(ref _overflows);
    /// <summary>Socket replacements (after overflows) and listener restarts (after faults).</summary>
    public long Restarts => Interlocked.Read(ref _restarts);
    /// <summary>Messages received twice during a make-before-break handover and delivered once.</summary>
    public long DuplicatesDropped => Interlocked.Read(ref _duplicatesDropped);
    /// <summary>Messages that could not be decoded (also counted in <see cref="Lost"/>).</summary>
    public long Malformed => Interlocked.Read(ref _malformed);
    /// <summary>Gaps in the kernel's sequence numbers: the cross-check of <see cref="Lost"/>.</summary>
    public long SequenceGaps => Interlocked.Read(ref _sequenceGaps);
    /// <summary>
    /// Drops during a handover that may be exits the other socket received: the old socket's in the
    /// microseconds between the new one's registration and its counter read, and the new socket's before
    /// the old one was deregistered. Counted as lost; said here for honesty.
    /// </summary>
    public long Uncertain => Interlocked.Read(ref _uncertain);
    /// <summary>Bytes waiting in the socket's receive queue at the last look.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);
    /// <summary>The socket's receive buffer, as granted.</summary>
    public long ReceiveBuffer => Interlocked.Read(ref _receiveBuffer);

    internal void Delivered(long messages, long records)
    {
        Interlocked.Add(ref _messages, messages);
        Interlocked.Add(ref _records, records);
    }

    internal void AddLost(long count) => Interlocked.Add(ref _lost, count);
    internal void AddOverflow() => Interlocked.Increment(ref _overflows);
    internal void AddRestart() => Interlocked.Increment(ref _restarts);
    internal void AddDuplicates(long count) => Interlocked.Add(ref _duplicatesDropped, count);
    internal void AddMalformed() => Interlocked.Increment(ref _malformed);
    internal void SetSequenceGaps(long gaps) => Interlocked.Exchange(ref _sequenceGaps, gaps);
    internal void AddUncertain(long count) => Interlocked.Add(ref _uncertain, count);
    internal void SetQueue(long queuedBytes, long receiveBuffer)
    {
        Interlocked.Exchange(ref _queuedBytes, queuedBytes);
        Interlocked.Exchange(ref _receiveBuffer, receiveBuffer);
    }
}
