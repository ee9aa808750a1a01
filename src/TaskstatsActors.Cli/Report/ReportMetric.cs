using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Report;

/// <summary>What a measure is counted in, for formatting.</summary>
internal enum MetricUnit
{
    Nanoseconds,
    Microseconds,
    Bytes,
}

/// <summary>What <c>report --sort</c> ranks groups by: the total of one delay category, CPU time, or storage I/O.</summary>
/// <param name="Name">The option value: cpu, blkio, …, cputime, io.</param>
/// <param name="Title">What the table's title calls it.</param>
/// <param name="Category">The delay category, for the eight delay metrics.</param>
/// <param name="Unit">The unit of <see cref="ReportRow"/>'s value of it.</param>
internal sealed record ReportMetric(string Name, string Title, DelayCategory? Category, MetricUnit Unit)
{
    public static readonly ReportMetric CpuTime = new("cputime", "CPU time (user + system)", null, MetricUnit.Microseconds);
    public static readonly ReportMetric Io = new("io", "storage I/O (read + write bytes)", null, MetricUnit.Bytes);

    /// <summary>Every metric, in the order the help lists them: the eight delays as getdelays prints them, then CPU time and I/O.</summary>
    public static IReadOnlyList<ReportMetric> All { get; } =
    [
        .. DelayReading.Categories.Select(category => new ReportMetric(DelayReading.ShortName(category), DelayTitle(category), category, MetricUnit.Nanoseconds)),
        CpuTime,
        Io,
    ];

    public static ReportMetric Parse(string name) =>
        All.FirstOrDefault(metric => metric.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"no metric '{name}'", nameof(name));

    /// <summary>The SQL expression, over one group's aggregate columns (see <see cref="ReportQuery"/>), ranked on.</summary>
    public string OrderExpression => Category is { } category
        ? $"{DelayReading.KernelPrefix(category)}_delay_total"
        : this == CpuTime ? "cpu_time_us" : "(read_bytes + write_bytes)";

    /// <summary>This metric's value in a row; 0 where no record carried it.</summary>
    public double ValueOf(ReportRow row) => Category is { } category
        ? row.Delays.TryGetValue(category, out var delay) && delay is { } d ? d.TotalNs : 0
        : this == CpuTime ? row.CpuTimeUs : (double)row.ReadBytes + row.WriteBytes;

    private static string DelayTitle(DelayCategory category) => category switch
    {
        DelayCategory.Cpu => "run-queue (cpu) delay",
        DelayCategory.BlockIo => "block I/O delay",
        DelayCategory.SwapIn => "swap-in delay",
        DelayCategory.Reclaim => "memory reclaim delay",
        DelayCategory.Thrashing => "thrashing delay",
        DelayCategory.Compact => "compaction delay",
        DelayCategory.WriteProtectCopy => "write-protect copy delay",
        DelayCategory.Irq => "IRQ delay",
        _ => category.ToString(),
    };
}
