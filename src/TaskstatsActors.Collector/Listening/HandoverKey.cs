using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Listening;

/// <summary>
/// Identifies one exit message across the two sockets of a handover: both receive the same message
/// with the same per-CPU sequence number, and the pid tells apart equal numbers of different CPUs.
/// </summary>
internal readonly record struct HandoverKey(uint Sequence, uint Id)
{
    public static HandoverKey Of(TaskstatsMessage message) =>
        new(message.Sequence, message.Task?.Id ?? message.Process?.Id ?? 0);
}
