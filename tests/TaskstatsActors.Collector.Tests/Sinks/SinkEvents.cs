using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Collector.Tests.Sinks;

/// <summary>Builds the events a sink sees, as the collector's stream would hand them over.</summary>
internal static class SinkEvents
{
    public static readonly ShardInfo Shard0 = new(0, CpuMask.Single(0));
    public static readonly ShardInfo Shard1 = new(1, CpuMask.Single(1));
    public static readonly IReadOnlyList<ShardInfo> Shards = [Shard0, Shard1];
    public static readonly DateTimeOffset T0 = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// <paramref name="batches"/> batches of <paramref name="perBatch"/> single-threaded exits each, on
    /// alternating shards, numbered by a per-shard sequence; pids from 1000, command <paramref name="comm"/>.
    /// </summary>
    public static List<ExitBatch> Exits(int batches, int perBatch, string comm = "worker")
    {
        var result = new List<ExitBatch>();
        var sequence = new uint[2];
        var pid = 1000u;
        for (var b = 0; b < batches; b++)
        {
            var shard = b % 2 == 0 ? Shard0 : Shard1;
            var messages = new List<TaskstatsMessage>();
            for (var i = 0; i < perBatch; i++, pid++)
                messages.Add(new TaskstatsMessage(++sequence[shard.Index], Record(TaskstatsScope.Pid, pid, comm), null));
            result.Add(new ExitBatch(shard, messages, T0.AddMilliseconds(b)));
        }
        return result;
    }

    /// <summary>The last thread of a two-thread process: its task record and the process record, in one message.</summary>
    public static TaskstatsMessage LastThread(uint sequence, uint pid, uint tgid, string comm) =>
        new(sequence, Record(TaskstatsScope.Pid, pid, comm, tgid), Record(TaskstatsScope.Tgid, tgid, comm, tgid));

    public static TaskstatsRecord Record(TaskstatsScope scope, uint id, string comm, uint? tgid = null) =>
        new(scope, id, ExitMessageBuilder.Stats(id, comm, tgid: tgid));

    public static RecordsLost Loss(long count, ShardInfo? shard = null, LossSource source = LossSource.SocketDropCounter) =>
        new(shard ?? Shard1, T0.AddSeconds(1), count, source);

    public static ListenerRestarted Restart(ShardInfo? shard = null) =>
        new(shard ?? Shard1, T0.AddSeconds(2), 8 << 20, "overflow");

    /// <summary>A window with two commands: "make" (many exits, little delay) and "cc1" (fewer exits, much CPU delay).</summary>
    public static WindowSummary Window()
    {
        var make = new GroupFigures("make", 120, 48_000, new Dictionary<DelayCategory, DelayFigures>
        {
            [DelayCategory.Cpu] = new(360, 3_600_000, 90_000),
            [DelayCategory.BlockIo] = new(4, 2_000_000, null),
        }, 4096, 0);
        var cc1 = new GroupFigures("cc1", 30, 2_400_000, new Dictionary<DelayCategory, DelayFigures>
        {
            [DelayCategory.Cpu] = new(900, 450_000_000, 5_000_000),
        }, 1 << 20, 1 << 16);
        var user = new GroupFigures("1000", 150, 2_448_000, new Dictionary<DelayCategory, DelayFigures>(), 0, 0);
        var process = new GroupFigures("4242", 30, 2_400_000, new Dictionary<DelayCategory, DelayFigures>(), 0, 0, Command: "cc1");
        var topByDelay = Enum.GetValues<DelayCategory>().ToDictionary(
            category => category,
            category => category == DelayCategory.Cpu ? (IReadOnlyList<GroupFigures>)[cc1, make] : []);
        return new WindowSummary(new WindowSummaryData(T0, T0.AddSeconds(10), 150, 7, [make, cc1], [user], [process], topByDelay));
    }
}
