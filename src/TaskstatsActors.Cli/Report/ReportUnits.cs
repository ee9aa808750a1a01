using System.Globalization;

namespace TaskstatsActors.Cli.Report;

/// <summary>Numbers as a person reads them in the report's table: durations, byte counts, counts, times.</summary>
internal static class ReportUnits
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>A duration given in nanoseconds: <c>812 ns</c>, <c>12.3 µs</c>, <c>450 ms</c>, <c>1.25 s</c>, <c>2.5 h</c>.</summary>
    public static string Nanoseconds(double ns) => ns switch
    {
        < 1e3 => $"{ns.ToString("0", Invariant)} ns",
        < 1e6 => $"{Significant(ns / 1e3)} µs",
        < 1e9 => $"{Significant(ns / 1e6)} ms",
        < 60e9 => $"{Significant(ns / 1e9)} s",
        < 3600e9 => $"{Significant(ns / 60e9)} min",
        _ => $"{Significant(ns / 3600e9)} h",
    };

    /// <summary>A duration given in microseconds.</summary>
    public static string Microseconds(double us) => Nanoseconds(us * 1e3);

    /// <summary>A byte count: <c>512 B</c>, <c>4.0 KiB</c>, <c>1.5 GiB</c>.</summary>
    public static string Bytes(double bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        var unit = 0;
        while (bytes >= 1024 && unit < units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes.ToString("0", Invariant)} B" : $"{Significant(bytes)} {units[unit]}";
    }

    /// <summary>A value of a metric in its unit.</summary>
    public static string Value(double value, MetricUnit unit) => unit switch
    {
        MetricUnit.Nanoseconds => Nanoseconds(value),
        MetricUnit.Microseconds => Microseconds(value),
        _ => Bytes(value),
    };

    /// <summary>A count with thousands separators: <c>12,345</c>.</summary>
    public static string Count(long count) => count.ToString("N0", Invariant);

    /// <summary>A local time as the table shows it: <c>2025-01-31 14:00:05</c>.</summary>
    public static string Time(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", Invariant);

    // Three significant digits at most: 1.23, 12.3, 123.
    private static string Significant(double value) =>
        value.ToString(value < 10 ? "0.00" : value < 100 ? "0.0" : "0", Invariant);
}
