using F = TaskstatsActors.Kernel.Taskstats.TaskstatsFields;

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

    // Each category's count, total, max and min fields, in the order of the enum.
    private static readonly (TaskstatsField Count, TaskstatsField Total, TaskstatsField Max, TaskstatsField Min)[] Fields =
    [
        (F.CpuCount, F.CpuDelayTotal, F.CpuDelayMax, F.CpuDelayMin),
        (F.BlkioCount, F.BlkioDelayTotal, F.BlkioDelayMax, F.BlkioDelayMin),
        (F.SwapinCount, F.SwapinDelayTotal, F.SwapinDelayMax, F.SwapinDelayMin),
        (F.FreepagesCount, F.FreepagesDelayTotal, F.FreepagesDelayMax, F.FreepagesDelayMin),
        (F.ThrashingCount, F.ThrashingDelayTotal, F.ThrashingDelayMax, F.ThrashingDelayMin),
        (F.CompactCount, F.CompactDelayTotal, F.CompactDelayMax, F.CompactDelayMin),
        (F.WpcopyCount, F.WpcopyDelayTotal, F.WpcopyDelayMax, F.WpcopyDelayMin),
        (F.IrqCount, F.IrqDelayTotal, F.IrqDelayMax, F.IrqDelayMin),
    ];

    /// <summary>Reads one category from a record, allocation-free.</summary>
    public static DelayReading Of(TaskStats s, DelayCategory category)
    {
        var (count, total, max, min) = FieldsOf(category);
        return new(category, s.Get<ulong>(count), s.Get<ulong>(total), s.Get<ulong>(max), s.Get<ulong>(min));
    }

    /// <summary>Reads just one category's total (what <see cref="Of"/> gives as <see cref="TotalNs"/>), for per-record paths that need no more.</summary>
    public static ulong? TotalOf(TaskStats s, DelayCategory category) => s.Get<ulong>(FieldsOf(category).Total);

    /// <summary>
    /// The prefix of the category's fields in the kernel's struct (<c>cpu</c>, <c>blkio</c>, …; reclaim is
    /// <c>freepages</c>), taken from the field table: <c>{prefix}_count</c>, <c>{prefix}_delay_total</c>.
    /// </summary>
    public static string KernelPrefix(DelayCategory category)
    {
        var count = FieldsOf(category).Count.Name;
        return count[..^"_count".Length];
    }

    private static (TaskstatsField Count, TaskstatsField Total, TaskstatsField Max, TaskstatsField Min) FieldsOf(DelayCategory category) =>
        (uint)category < (uint)Fields.Length ? Fields[(int)category] : throw new ArgumentOutOfRangeException(nameof(category));

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
