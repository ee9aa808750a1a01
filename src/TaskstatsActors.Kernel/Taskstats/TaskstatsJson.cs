using System.Text.Json;

namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>
/// Writes a <see cref="TaskStats"/> as JSON properties named exactly as the kernel's fields
/// (<c>version</c>, <c>ac_exitcode</c>, <c>cpu_delay_total</c>, …), in the order of the newest header.
/// Fields the record does not have (<c>null</c>) are left out. Numbers are JSON numbers, <c>ac_comm</c>
/// a string, and each <c>*_delay_max_ts</c> an object <c>{"tv_sec": …, "tv_nsec": …}</c>.
/// </summary>
public static class TaskstatsJson
{
    private static readonly JsonEncodedText TvSec = JsonEncodedText.Encode("tv_sec");
    private static readonly JsonEncodedText TvNsec = JsonEncodedText.Encode("tv_nsec");

    /// <summary>
    /// Writes the record's fields as properties of the JSON object the writer is in; the caller opens
    /// and closes the object, so it can add its own properties (a timestamp, a scope) next to them.
    /// </summary>
    public static void WriteFields(Utf8JsonWriter w, TaskStats s)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(s);
        foreach (var field in TaskstatsLayout.FieldSpan)
        {
            if (!s.Has(field))
                continue;
            switch (field.Kind)
            {
                case TaskstatsFieldKind.Comm:
                    w.WriteString(field.JsonName, s.GetText(field));
                    break;
                case TaskstatsFieldKind.Timespec:
                    var time = s.GetTime(field)!.Value;
                    w.WriteStartObject(field.JsonName);
                    w.WriteNumber(TvSec, time.Seconds);
                    w.WriteNumber(TvNsec, time.Nanoseconds);
                    w.WriteEndObject();
                    break;
                default:
                    w.WriteNumber(field.JsonName, s.ReadNumber(field));
                    break;
            }
        }
    }
}
