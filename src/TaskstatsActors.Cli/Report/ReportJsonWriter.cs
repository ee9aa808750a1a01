using System.Text.Encodings.Web;
using System.Text.Json;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Report;

/// <summary>
/// <c>report --json</c>: one JSON object. Groups carry every figure (not just the one ranked by), with the
/// key under the grouping's name (<c>"comm"</c>, <c>"uid"</c>, <c>"tgid"</c>, <c>"shard"</c>) and delays by
/// their short names as the JSON Lines window summaries write them.
/// </summary>
internal static class ReportJsonWriter
{
    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(TextWriter output, GroupReport report)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, Options))
        {
            json.WriteStartObject();
            WriteRange(json, report.Range, report.First, report.Last);
            json.WriteString("by", report.By.Name);
            json.WriteString("sort", report.Sort.Name);
            json.WriteNumber("top", report.Top);
            json.WriteNumber("exits", report.Exits);
            json.WriteNumber("groups", report.Groups);
            json.WriteStartArray("rows");
            foreach (var row in report.Rows)
                WriteRow(json, report.By, row);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    public static void Write(TextWriter output, LossReport report)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, Options))
        {
            json.WriteStartObject();
            WriteRange(json, report.Range, null, null);
            json.WriteNumber("exits", report.Exits);
            json.WriteNumber("lost", report.Total);
            json.WriteStartArray("losses");
            foreach (var loss in report.Rows)
            {
                json.WriteStartObject();
                json.WriteString("time", loss.Time.ToUniversalTime());
                json.WriteNumber("shard", loss.Shard);
                json.WriteString("cpus", loss.Cpus);
                json.WriteNumber("count", loss.Count);
                json.WriteString("source", loss.Source);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static void WriteRange(Utf8JsonWriter json, ReportRange range, DateTimeOffset? first, DateTimeOffset? last)
    {
        WriteTime(json, "from", range.From);
        WriteTime(json, "to", range.To);
        if (first is not null || last is not null)
        {
            WriteTime(json, "first", first);
            WriteTime(json, "last", last);
        }
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? time)
    {
        if (time is { } t)
            json.WriteString(name, t.ToUniversalTime());
        else
            json.WriteNull(name);
    }

    private static void WriteRow(Utf8JsonWriter json, ReportGrouping by, ReportRow row)
    {
        json.WriteStartObject();
        if (row.Key is null)
            json.WriteNull(by.Name);
        else if (by.IsNumeric)
            json.WriteNumber(by.Name, long.Parse(row.Key, System.Globalization.CultureInfo.InvariantCulture));
        else
            json.WriteString(by.Name, row.Key);
        if (by.HasCommand)
            json.WriteString("comm", row.Command);
        json.WriteNumber("exits", row.Exits);
        if (row.Lost is { } lost)
            json.WriteNumber("lost", lost);
        json.WriteNumber("cpu_time_us", row.CpuTimeUs);
        json.WriteNumber("read_bytes", row.ReadBytes);
        json.WriteNumber("write_bytes", row.WriteBytes);
        json.WriteStartObject("delays");
        foreach (var category in DelayReading.Categories)
        {
            if (row.Delays.GetValueOrDefault(category) is not { } delay)
                continue;
            json.WriteStartObject(DelayReading.ShortName(category));
            json.WriteNumber("count", delay.Count);
            json.WriteNumber("total_ns", delay.TotalNs);
            if (delay.MaxNs is { } max)
                json.WriteNumber("max_ns", max);
            else
                json.WriteNull("max_ns");
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
