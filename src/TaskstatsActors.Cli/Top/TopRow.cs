using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Top;

/// <summary>One process over one interval: what share of the interval it spent in each wait, and its I/O rates.</summary>
public sealed record TopRow(uint Tgid, string Command, double CpuPercent, IReadOnlyDictionary<DelayCategory, double> DelayPercent, double ReadPerSecond, double WritePerSecond)
{
    /// <summary>The change from <paramref name="before"/> to <paramref name="after"/> over <paramref name="interval"/>.</summary>
    public static TopRow Between(ProcessSample before, ProcessSample after, TimeSpan interval)
    {
        var seconds = Math.Max(interval.TotalSeconds, 1e-3);
        var delays = new Dictionary<DelayCategory, double>();
        foreach (var (category, total) in after.DelayNs)
        {
            var previous = before.DelayNs.GetValueOrDefault(category);
            delays[category] = total >= previous ? (total - previous) / 1e9 / seconds * 100 : 0;
        }
        return new TopRow(after.Tgid, after.Command,
            Delta(after.CpuTimeUs, before.CpuTimeUs) / 1e6 / seconds * 100,
            delays,
            Delta(after.ReadBytes, before.ReadBytes) / seconds,
            Delta(after.WriteBytes, before.WriteBytes) / seconds);
    }

    // Counters only grow; a smaller value means the tgid now belongs to another process.
    private static double Delta(ulong after, ulong before) => after >= before ? after - before : 0;

    /// <summary>The value a column sorts by.</summary>
    public double Value(TopColumn column) => column switch
    {
        TopColumn.CpuTime => CpuPercent,
        TopColumn.Io => ReadPerSecond + WritePerSecond,
        _ => DelayPercent.GetValueOrDefault(ToCategory(column)),
    };

    /// <summary>The delay category behind a delay column.</summary>
    public static DelayCategory ToCategory(TopColumn column) => column switch
    {
        TopColumn.Cpu => DelayCategory.Cpu,
        TopColumn.Blkio => DelayCategory.BlockIo,
        TopColumn.Swapin => DelayCategory.SwapIn,
        TopColumn.Reclaim => DelayCategory.Reclaim,
        TopColumn.Thrashing => DelayCategory.Thrashing,
        TopColumn.Compact => DelayCategory.Compact,
        TopColumn.Wpcopy => DelayCategory.WriteProtectCopy,
        TopColumn.Irq => DelayCategory.Irq,
        _ => throw new ArgumentOutOfRangeException(nameof(column), column, "not a delay column"),
    };
}
