using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Report;

/// <summary>The time range a report covers: <c>[From, To)</c>; either end open when not given.</summary>
/// <param name="From">The first instant included; null for the start of the history.</param>
/// <param name="To">The first instant excluded; null for its end.</param>
internal sealed record ReportRange(DateTimeOffset? From, DateTimeOffset? To)
{
    public static readonly ReportRange Everything = new(null, null);

    /// <summary>With <c>--since</c>: the span asked for, ending now.</summary>
    public TimeSpan? Last { get; init; }
}

/// <summary>One delay category summed over a group's exit records.</summary>
/// <param name="Count">Delays counted.</param>
/// <param name="TotalNs">Their total, nanoseconds.</param>
/// <param name="MaxNs">The longest single delay; null when no record carried a maximum (struct versions before 15).</param>
internal readonly record struct DelayTotals(long Count, long TotalNs, long? MaxNs)
{
    /// <summary>The average delay, nanoseconds; null without delays.</summary>
    public double? AverageNs => Count > 0 ? (double)TotalNs / Count : null;
}

/// <summary>One group of a report: the sums over its task exit records.</summary>
/// <param name="Key">The command, uid, tgid or shard; null when the records lack the field.</param>
/// <param name="Command">For a tgid: the command of its main thread (else of any thread); otherwise null.</param>
/// <param name="Exits">Task exits.</param>
/// <param name="CpuTimeUs">User + system CPU time, microseconds.</param>
/// <param name="Delays">Per delay category; a category no record carried (older struct versions) is absent.</param>
/// <param name="ReadBytes">Bytes read from storage.</param>
/// <param name="WriteBytes">Bytes written to storage.</param>
/// <param name="Lost">For a shard: exit messages lost on it in the range; otherwise null.</param>
internal sealed record ReportRow(
    string? Key,
    string? Command,
    long Exits,
    long CpuTimeUs,
    IReadOnlyDictionary<DelayCategory, DelayTotals?> Delays,
    long ReadBytes,
    long WriteBytes,
    long? Lost);

/// <summary>The answer to <c>report --by … --sort …</c>.</summary>
/// <param name="Range">The range asked for.</param>
/// <param name="First">The first exit record in the range; null when there is none.</param>
/// <param name="Last">The last one.</param>
/// <param name="By">The grouping.</param>
/// <param name="Sort">The metric ranked by.</param>
/// <param name="Top">How many groups were asked for.</param>
/// <param name="Exits">Task exits in the range, all groups.</param>
/// <param name="Groups">Groups in the range.</param>
/// <param name="MetricTotal">The metric summed over all groups (for shares).</param>
/// <param name="Rows">The top groups, highest first.</param>
internal sealed record GroupReport(
    ReportRange Range,
    DateTimeOffset? First,
    DateTimeOffset? Last,
    ReportGrouping By,
    ReportMetric Sort,
    int Top,
    long Exits,
    long Groups,
    double MetricTotal,
    IReadOnlyList<ReportRow> Rows);

/// <summary>One loss as the collector recorded it.</summary>
/// <param name="Time">When it was noticed.</param>
/// <param name="Shard">The shard.</param>
/// <param name="Cpus">The shard's cpus.</param>
/// <param name="Count">Exit messages lost.</param>
/// <param name="Source">How they were counted: socket-drop-counter, sequence-gap, malformed.</param>
internal sealed record LossRow(DateTimeOffset Time, int Shard, string Cpus, long Count, string Source);

/// <summary>The answer to <c>report --losses</c>: every loss in the range, oldest first.</summary>
/// <param name="Range">The range asked for.</param>
/// <param name="Rows">The losses.</param>
/// <param name="Exits">Task exits recorded in the same range, to put the losses in proportion.</param>
internal sealed record LossReport(ReportRange Range, IReadOnlyList<LossRow> Rows, long Exits)
{
    public long Total => Rows.Sum(row => row.Count);
}
