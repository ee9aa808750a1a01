using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Tests.Report;

/// <summary>
/// A history with known contents, written by the collector's own writer, that the report specs question. Inside
/// the range <see cref="From"/>–<see cref="To"/> (2025-01-01 11:30 to 13:00 UTC):
/// <code>
/// pid  tgid comm     uid  shard cpu delay (count, max)  blkio delay  swapin  utime+stime  read     write
/// 100  100  make     1000 0     1 ms (2, 0.6 ms)      0            0       1,500 µs     4 KiB    0     ×4 (pids 100-103)
/// 200  200  cc1      1000 1     50 ms (10, 30 ms)     5 ms         0       250,000 µs   1 MiB    64 KiB
/// 201  201  cc1      1000 1     50 ms (10, 30 ms)     5 ms         0       250,000 µs   1 MiB    64 KiB
/// 300  300  postgres 70   0     2 ms (4, 1 ms)        20 ms        1 ms    10,000 µs    0        10 MiB
/// 301  300  bgworker 70   1     1.5 ms (3, 1 ms)      90 ms        0       5,000 µs     0        1 MiB    ×2 (pids 301-302)
/// </code>
/// plus the process record of tgid 300 (which sums its threads again and must not count), an exit of "old" two
/// hours before the range with 10 s of cpu delay, and losses: 123 on shard 1 and 5 on shard 0 in the range, 7
/// on shard 1 before it.
/// </summary>
internal sealed class ReportHistory : IDisposable
{
    public static readonly DateTimeOffset T0 = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
    public static readonly ShardInfo Shard0 = new(0, CpuMask.Single(0));
    public static readonly ShardInfo Shard1 = new(1, CpuMask.Single(1));

    public const string From = "2025-01-01T11:30:00Z";
    public const string To = "2025-01-01T13:00:00Z";

    private readonly string _directory = System.IO.Directory.CreateTempSubdirectory("taskstats-report-specs-").FullName;

    public ReportHistory()
    {
        Path = System.IO.Path.Combine(_directory, "taskstats.db");
        using var writer = HistoryWriter.Open(new HistoryOptions { Path = Path, MaxAge = TimeSpan.Zero, MaxSize = 0 });
        var seq = 0u;
        TaskstatsMessage Exit(uint pid, uint tgid, string comm, uint uid, Action<TaskStats> edit, TaskStats? process = null)
        {
            var stats = Stats(pid, tgid, comm, uid);
            edit(stats);
            return new TaskstatsMessage(++seq, new TaskstatsRecord(TaskstatsScope.Pid, pid, stats),
                process is null ? null : new TaskstatsRecord(TaskstatsScope.Tgid, tgid, process));
        }

        var make = Enumerable.Range(100, 4).Select(pid => Exit((uint)pid, 100, "make", 1000, s =>
        {
            s.CpuCount = 2; s.CpuDelayTotal = 1_000_000; s.CpuDelayMax = 600_000;
            s.AcUtime = 1_000; s.AcStime = 500; s.ReadBytes = 4096; s.WriteBytes = 0;
        })).ToList();
        var cc1 = new[] { 200u, 201u }.Select(pid => Exit(pid, pid, "cc1", 1000, s =>
        {
            s.CpuCount = 10; s.CpuDelayTotal = 50_000_000; s.CpuDelayMax = 30_000_000;
            s.BlkioCount = 1; s.BlkioDelayTotal = 5_000_000; s.BlkioDelayMax = 5_000_000;
            s.AcUtime = 200_000; s.AcStime = 50_000; s.ReadBytes = 1 << 20; s.WriteBytes = 64 << 10;
        })).ToList();
        var postgres = Exit(300, 300, "postgres", 70, s =>
        {
            s.CpuCount = 4; s.CpuDelayTotal = 2_000_000; s.CpuDelayMax = 1_000_000;
            s.BlkioCount = 2; s.BlkioDelayTotal = 20_000_000; s.BlkioDelayMax = 15_000_000;
            s.SwapinCount = 1; s.SwapinDelayTotal = 1_000_000; s.SwapinDelayMax = 1_000_000;
            s.AcUtime = 8_000; s.AcStime = 2_000; s.ReadBytes = 0; s.WriteBytes = 10 << 20;
        }, process: Huge(300, "postgres", 70));
        var workers = new[] { 301u, 302u }.Select(pid => Exit(pid, 300, "bgworker", 70, s =>
        {
            s.CpuCount = 3; s.CpuDelayTotal = 1_500_000; s.CpuDelayMax = 1_000_000;
            s.BlkioCount = 9; s.BlkioDelayTotal = 90_000_000; s.BlkioDelayMax = 40_000_000;
            s.AcUtime = 4_000; s.AcStime = 1_000; s.ReadBytes = 0; s.WriteBytes = 1 << 20;
        })).ToList();
        var old = Exit(50, 50, "old", 1000, s => { s.CpuCount = 1; s.CpuDelayTotal = 10_000_000_000; s.CpuDelayMax = 10_000_000_000; });

        writer.Write(new ExitBatch(Shard0, [old], T0.AddHours(-2)));
        writer.Write(new RecordsLost(Shard1, T0.AddHours(-3), 7, LossSource.SocketDropCounter));
        writer.Write(new ExitBatch(Shard0, make, T0));
        writer.Write(new ExitBatch(Shard1, cc1, T0.AddMinutes(1)));
        writer.Write(new RecordsLost(Shard1, T0.AddMinutes(1).AddSeconds(1), 123, LossSource.SocketDropCounter));
        writer.Write(new ExitBatch(Shard1, workers, T0.AddMinutes(2)));
        writer.Write(new ExitBatch(Shard0, [postgres], T0.AddMinutes(2).AddSeconds(1)));
        writer.Write(new RecordsLost(Shard0, T0.AddMinutes(3), 5, LossSource.SequenceGap));
    }

    public string Path { get; }

    public string Directory => _directory;

    public void Dispose() => System.IO.Directory.Delete(_directory, recursive: true);

    private static TaskStats Stats(uint pid, uint tgid, string comm, uint uid) => new()
    {
        Version = 16,
        AcComm = comm,
        AcPid = pid,
        AcTgid = tgid,
        AcPpid = 1,
        AcUid = uid,
        AcGid = uid,
        AcExitcode = 0,
        SwapinCount = 0,
        SwapinDelayTotal = 0,
        SwapinDelayMax = 0,
        BlkioDelayMax = 0,
        FreepagesCount = 0,
        FreepagesDelayTotal = 0,
        FreepagesDelayMax = 0,
        ThrashingCount = 0,
        ThrashingDelayTotal = 0,
        ThrashingDelayMax = 0,
        CompactCount = 0,
        CompactDelayTotal = 0,
        CompactDelayMax = 0,
        WpcopyCount = 0,
        WpcopyDelayTotal = 0,
        WpcopyDelayMax = 0,
        IrqCount = 0,
        IrqDelayTotal = 0,
        IrqDelayMax = 0,
    };

    /// <summary>A process record whose figures would swamp every group if it were counted.</summary>
    private static TaskStats Huge(uint tgid, string comm, uint uid)
    {
        var stats = Stats(tgid, tgid, comm, uid);
        stats.CpuCount = 1_000; stats.CpuDelayTotal = 99_000_000_000; stats.CpuDelayMax = 99_000_000_000;
        stats.BlkioCount = 1_000; stats.BlkioDelayTotal = 99_000_000_000;
        stats.AcUtime = 99_000_000_000; stats.AcStime = 0; stats.ReadBytes = 1UL << 40; stats.WriteBytes = 1UL << 40;
        return stats;
    }
}
