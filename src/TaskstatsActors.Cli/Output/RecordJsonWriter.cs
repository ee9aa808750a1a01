using System.Text.Json;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Output;

/// <summary>Prints a record as one JSON object: <c>"pid"</c> or <c>"tgid"</c>, <c>"seq"</c> where known, then the kernel's field names.</summary>
internal static class RecordJsonWriter
{
    public static void WriteLine(TextWriter output, TaskstatsRecord record, uint? sequence)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber(record.Scope == TaskstatsScope.Pid ? "pid" : "tgid", record.Id);
            if (sequence is { } seq)
                json.WriteNumber("seq", seq);
            TaskstatsJson.WriteFields(json, record.Stats);
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }
}
