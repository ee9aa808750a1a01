namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>The kinds of waiting that delay accounting measures.</summary>
public enum DelayCategory
{
    /// <summary>Waiting on a run queue for a CPU (<c>cpu_*</c>).</summary>
    Cpu,
    /// <summary>Waiting for block I/O to complete (<c>blkio_*</c>).</summary>
    BlockIo,
    /// <summary>Waiting for pages to be swapped in (<c>swapin_*</c>).</summary>
    SwapIn,
    /// <summary>Waiting for memory reclaim (<c>freepages_*</c>).</summary>
    Reclaim,
    /// <summary>Waiting on thrashing page cache (<c>thrashing_*</c>).</summary>
    Thrashing,
    /// <summary>Waiting for memory compaction (<c>compact_*</c>).</summary>
    Compact,
    /// <summary>Waiting on write-protect copy faults (<c>wpcopy_*</c>).</summary>
    WriteProtectCopy,
    /// <summary>Time stolen by IRQ handling (<c>irq_*</c>).</summary>
    Irq,
}

/// <summary>One delay category's figures in a record; a field the kernel's version lacks is null.</summary>
/// <param name="Category">Which delay.</param>
/// <param name="Count">How many delays were counted.</param>
/// <param name="TotalNs">Their total, in nanoseconds.</param>
/// <param name="MaxNs">The longest single delay (struct version 15+).</param>
/// <param name="MinNs">The shortest single delay (struct version 15+).</param>
public readonly record struct DelayReading(DelayCategory Category, ulong? Count, ulong? TotalNs, ulong? MaxNs, ulong? MinNs)
{
    /// <summary>All categories, in the order getdelays prints them.</summary>
    public static IReadOnlyList<DelayCategory> Categories { get; } = Enum.GetValues<DelayCategory>();

    /// <summary>Reads one category from a record, allocation-free.</summary>
    public static DelayReading Of(TaskStats s, DelayCategory category) => category switch
    {
        DelayCategory.Cpu => new(category, s.CpuCount, s.CpuDelayTotal, s.CpuDelayMax, s.CpuDelayMin),
        DelayCategory.BlockIo => new(category, s.BlkioCount, s.BlkioDelayTotal, s.BlkioDelayMax, s.BlkioDelayMin),
        DelayCategory.SwapIn => new(category, s.SwapinCount, s.SwapinDelayTotal, s.SwapinDelayMax, s.SwapinDelayMin),
        DelayCategory.Reclaim => new(category, s.FreepagesCount, s.FreepagesDelayTotal, s.FreepagesDelayMax, s.FreepagesDelayMin),
        DelayCategory.Thrashing => new(category, s.ThrashingCount, s.ThrashingDelayTotal, s.ThrashingDelayMax, s.ThrashingDelayMin),
        DelayCategory.Compact => new(category, s.CompactCount, s.CompactDelayTotal, s.CompactDelayMax, s.CompactDelayMin),
        DelayCategory.WriteProtectCopy => new(category, s.WpcopyCount, s.WpcopyDelayTotal, s.WpcopyDelayMax, s.WpcopyDelayMin),
        DelayCategory.Irq => new(category, s.IrqCount, s.IrqDelayTotal, s.IrqDelayMax, s.IrqDelayMin),
        _ => throw new ArgumentOutOfRangeException(nameof(category)),
    };

    /// <summary>The average delay in nanoseconds, when there is a count.</summary>
    public double? AverageNs => Count is > 0 && TotalNs is { } total ? (double)total / Count.Value : null;

    /// <summary>The short name operators use: cpu, blkio, swapin, reclaim, thrashing, compact, wpcopy, irq.</summary>
    public static string ShortName(DelayCategory category) => category switch
    {
        DelayCategory.Cpu => "cpu",
        DelayCategory.BlockIo => "blkio",
        DelayCategory.SwapIn => "swapin",
        DelayCategory.Reclaim => "reclaim",
        DelayCategory.Thrashing => "thrashing",
        DelayCategory.Compact => "compact",
        DelayCategory.WriteProtectCopy => "wpcopy",
        DelayCategory.Irq => "irq",
        _ => category.ToString(),
    };
}
