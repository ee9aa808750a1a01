using System.Text.Json;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Output;

/// <summary>Prints cgroup task counts, as text or as JSON with <c>struct cgroupstats</c>'s field names.</summary>
internal static class CgroupStatsWriter
{
    public static void WriteText(TextWriter output, string directory, CgroupStats stats) =>
        output.WriteLine($"cgroup {directory}: sleeping {stats.Sleeping}, running {stats.Running}, stopped {stats.Stopped}, uninterruptible {stats.Uninterruptible}, io wait {stats.IoWait}");

    public static void WriteJson(TextWriter output, string directory, CgroupStats stats)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("cgroup", directory);
            json.WriteNumber("nr_sleeping", stats.Sleeping);
            json.WriteNumber("nr_running", stats.Running);
            json.WriteNumber("nr_stopped", stats.Stopped);
            json.WriteNumber("nr_uninterruptible", stats.Uninterruptible);
            json.WriteNumber("nr_io_wait", stats.IoWait);
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }
}
