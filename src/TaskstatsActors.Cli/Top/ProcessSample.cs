using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Top;

/// <summary>One process's cumulative figures at one moment, as the kernel reports them by tgid.</summary>
public sealed record ProcessSample(uint Tgid, string Command, ulong CpuTimeUs, IReadOnlyDictionary<DelayCategory, ulong> DelayNs, ulong ReadBytes, ulong WriteBytes)
{
    /// <summary>
    /// Takes the figures out of a tgid record. The kernel sums delays and CPU time over a thread group
    /// but not the command name or I/O bytes, so those come from <paramref name="command"/> and
    /// <paramref name="io"/> (read from /proc) when the record lacks them.
    /// </summary>
    public static ProcessSample From(TaskstatsRecord record, string? command = null, (ulong Read, ulong Write)? io = null)
    {
        var s = record.Stats;
        var delays = new Dictionary<DelayCategory, ulong>();
        foreach (var category in DelayReading.Categories)
        {
            if (DelayReading.Of(s, category).TotalNs is { } total)
                delays[category] = total;
        }
        return new ProcessSample(record.Id, string.IsNullOrEmpty(s.AcComm) ? command ?? "?" : s.AcComm,
            (s.AcUtime ?? 0) + (s.AcStime ?? 0), delays,
            io?.Read ?? s.ReadBytes ?? 0, io?.Write ?? s.WriteBytes ?? 0);
    }
}
