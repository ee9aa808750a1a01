using System.Globalization;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Report;

/// <summary>
/// <c>report --csv</c>: a header line, then one line per group (or per loss), RFC 4180 quoting. The columns
/// are those of <c>--json</c>, flattened: <c>cpu_count</c>, <c>cpu_total_ns</c>, <c>cpu_max_ns</c>, …; a
/// figure no record carried is an empty field.
/// </summary>
internal static class ReportCsvWriter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Write(TextWriter output, GroupReport report)
    {
        var header = new List<string> { report.By.Name };
        if (report.By.HasCommand)
            header.Add("comm");
        header.Add("exits");
        if (report.By.HasLost)
            header.Add("lost");
        header.AddRange(["cpu_time_us", "read_bytes", "write_bytes"]);
        foreach (var category in DelayReading.Categories)
        {
            var name = DelayReading.ShortName(category);
            header.AddRange([$"{name}_count", $"{name}_total_ns", $"{name}_max_ns"]);
        }
        output.WriteLine(string.Join(',', header));

        foreach (var row in report.Rows)
        {
            var fields = new List<string?> { row.Key };
            if (report.By.HasCommand)
                fields.Add(row.Command);
            fields.Add(Number(row.Exits));
            if (report.By.HasLost)
                fields.Add(Number(row.Lost));
            fields.AddRange([Number(row.CpuTimeUs), Number(row.ReadBytes), Number(row.WriteBytes)]);
            foreach (var category in DelayReading.Categories)
            {
                var delay = row.Delays.GetValueOrDefault(category);
                fields.AddRange([Number(delay?.Count), Number(delay?.TotalNs), Number(delay?.MaxNs)]);
            }
            output.WriteLine(string.Join(',', fields.Select(Quote)));
        }
    }

    public static void Write(TextWriter output, LossReport report)
    {
        output.WriteLine("time,shard,cpus,count,source");
        foreach (var loss in report.Rows)
        {
            output.WriteLine(string.Join(',',
                Quote(loss.Time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", Invariant)),
                Number(loss.Shard), Quote(loss.Cpus), Number(loss.Count), Quote(loss.Source)));
        }
    }

    private static string? Number(long? value) => value?.ToString(Invariant);

    private static string Quote(string? field)
    {
        if (field is null)
            return "";
        return field.AsSpan().IndexOfAny(",\"\r\n") >= 0 || field.StartsWith(' ') || field.EndsWith(' ')
            ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : field;
    }
}
