using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Events;

/// <summary>What flows through the collector's stream to every sink.</summary>
public abstract record CollectorEvent;

/// <summary>
/// Exit messages one listener drained in one wake-up, in arrival order. Each message carries the
/// task's record and, for the last thread of a multi-threaded process, the process record.
/// </summary>
/// <param name="Shard">The listener's shard.</param>
/// <param name="Messages">The messages, duplicates from a socket handover already removed.</param>
/// <param name="ReceivedAt">When the batch was drained from the socket.</param>
public sealed record ExitBatch(ShardInfo Shard, IReadOnlyList<TaskstatsMessage> Messages, DateTimeOffset ReceivedAt) : CollectorEvent
{
    /// <summary>How many records (task and process records) the batch holds.</summary>
    public int RecordCount
    {
        get
        {
            var count = 0;
            foreach (var message in Messages)
                count += (message.Task is null ? 0 : 1) + (message.Process is null ? 0 : 1);
            return count;
        }
    }
}

/// <summary>Exit messages the kernel dropped because a listener's socket overflowed (<c>ENOBUFS</c>), counted exactly.</summary>
/// <param name="Shard">Where they were lost.</param>
/// <param name="Time">When the loss was noticed.</param>
/// <param name="Count">How many exit messages were lost.</param>
/// <param name="Source">How the count was established.</param>
public sealed record RecordsLost(ShardInfo Shard, DateTimeOffset Time, long Count, LossSource Source) : CollectorEvent;

/// <summary>How a loss was counted.</summary>
public enum LossSource
{
    /// <summary>The socket's drop counter (<c>SO_MEMINFO</c> <c>SK_MEMINFO_DROPS</c>).</summary>
    SocketDropCounter,
    /// <summary>A gap in the kernel's per-CPU sequence numbers (a listener restart after a socket fault).</summary>
    SequenceGap,
    /// <summary>A message that arrived but could not be decoded.</summary>
    Malformed,
}

/// <summary>The aggregator's summary of one time window (see <see cref="Aggregation.WindowSummaryData"/>).</summary>
public sealed record WindowSummary(Aggregation.WindowSummaryData Data) : CollectorEvent;

/// <summary>A listener replaced its socket (make before break) after an overflow, or after a fault.</summary>
/// <param name="Shard">Which shard.</param>
/// <param name="Time">When the new socket took over.</param>
/// <param name="ReceiveBuffer">The new socket's receive buffer, as granted.</param>
/// <param name="Reason">Why: "overflow" or the fault's message.</param>
public sealed record ListenerRestarted(ShardInfo Shard, DateTimeOffset Time, int ReceiveBuffer, string Reason) : CollectorEvent;

/// <summary>
/// The collector's own figures (per shard: records, lost, overflows, restarts, socket queue depth,
/// receive buffer), published every few seconds so that sinks such as a metrics endpoint can show them.
/// </summary>
/// <param name="Summary">The figures at <see cref="Status.CollectorSummary.Elapsed"/>.</param>
public sealed record CollectorStatus(Status.CollectorSummary Summary) : CollectorEvent;
