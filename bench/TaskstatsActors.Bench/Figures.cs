namespace TaskstatsActors.Bench;

/// <summary>The medians of one contender's runs in one scenario.</summary>
internal sealed record ContenderFigures(
    Contender Contender,
    IReadOnlyList<RunResult> Runs,
    IReadOnlyList<RunResult> Failed,
    double? Exits,
    double? Received,
    double? MeasuredLost,
    double? ReportedLost,
    double? Enobufs,
    double? Restarts,
    double? CpuPer100K,
    double? StormCpuPer100K,
    double? StormRate,
    double? ObserverEffect,
    double? PeakRssKiB,
    string? Buffer)
{

    public static ContenderFigures Of(Contender contender, IReadOnlyList<RunResult> all, double? baselineRate)
    {
        var runs = all.Where(r => r.Problem is null).ToList();
        var failed = all.Where(r => r.Problem is not null).ToList();
        var rate = Stats.Median(runs.Select(r => (double?)r.StormRate));
        return new ContenderFigures(contender, runs, failed,
            Stats.Median(runs.Select(r => (double?)r.Exits)),
            Stats.Median(runs.Select(r => (double?)r.Received)),
            Stats.Median(runs.Select(r => (double?)r.MeasuredLost)),
            Stats.Median(runs.Select(r => (double?)r.ReportedLost)),
            Stats.Median(runs.Select(r => (double?)r.Enobufs)),
            Stats.Median(runs.Select(r => (double?)r.Restarts)),
            Stats.Median(runs.Select(r => r.CpuPer100K)),
            Stats.Median(runs.Select(r => r.StormCpuPer100K)),
            rate,
            rate is { } r && baselineRate is > 0 && contender.Kind != ContenderKind.Baseline ? r / baselineRate.Value : null,
            Stats.Median(runs.Select(r => (double?)r.PeakRssKiB)),
            runs.Select(r => r.Buffer).FirstOrDefault(b => b is not null));
    }

    /// <summary>The figures of every contender of a scenario, in the scenario's order.</summary>
    public static IReadOnlyList<ContenderFigures> Of(Scenario scenario, IReadOnlyList<RunResult> runs)
    {
        var mine = runs.Where(r => r.Scenario == scenario.Id).ToList();
        var baseline = scenario.Contenders.FirstOrDefault(c => c.Kind == ContenderKind.Baseline) is { } b
            ? Stats.Median(mine.Where(r => r.Contender == b.Id && r.Problem is null).Select(r => (double?)r.StormRate))
            : null;
        return scenario.Contenders.Select(c => Of(c, mine.Where(r => r.Contender == c.Id).ToList(), baseline)).ToList();
    }
}

internal static class Stats
{
    public static double? Median(IEnumerable<double?> values)
    {
        var sorted = values.Where(v => v is not null && !double.IsNaN(v.Value)).Select(v => v!.Value).Order().ToList();
        if (sorted.Count == 0)
            return null;
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>Least-squares slope of y over x.</summary>
    public static double Slope(IReadOnlyList<(double X, double Y)> points)
    {
        if (points.Count < 2)
            return 0;
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        return sxx == 0 ? 0 : points.Sum(p => (p.X - mx) * (p.Y - my)) / sxx;
    }
}
