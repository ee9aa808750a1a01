using TaskstatsActors.Collector.Events;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Collector.Tests.AggregationSpecs;

/// <summary>Builds exit messages and batches for the aggregation specs.</summary>
internal static class Exits
{
    public static readonly ShardInfo Shard = new(0, CpuMask.Single(0));
    public static readonly DateTimeOffset T0 = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static uint _sequence;

    /// <summary>A task's exit: <see cref="ExitMessageBuilder.Stats"/> (utime 1000, stime 500, cpu delay 3 / 30 000 ns, uid 1000), then <paramref name="edit"/>.</summary>
    public static TaskstatsMessage Task(uint pid, string comm, uint? tgid = null, Action<TaskStats>? edit = null, TaskStats? process = null)
    {
        var stats = ExitMessageBuilder.Stats(pid, comm, tgid: tgid);
        edit?.Invoke(stats);
        TaskstatsRecord? processRecord = process is null ? null : new TaskstatsRecord(TaskstatsScope.Tgid, process.AcTgid ?? pid, process);
        return new TaskstatsMessage(Interlocked.Increment(ref _sequence), new TaskstatsRecord(TaskstatsScope.Pid, pid, stats), processRecord);
    }

    public static ExitBatch Batch(params TaskstatsMessage[] messages) => new(Shard, messages, T0);

    public static RecordsLost Loss(long count) => new(Shard, T0, count, LossSource.SocketDropCounter);
}
