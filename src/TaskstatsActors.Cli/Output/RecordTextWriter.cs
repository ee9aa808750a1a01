using System.Globalization;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Output;

// InvariantGlobalization is on for the whole build, so interpolation formats numbers the same everywhere.

/// <summary>Prints a record for people, in the spirit of getdelays: a delay table, then CPU, memory, I/O and context switches.</summary>
internal static class RecordTextWriter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Write(TextWriter output, TaskstatsRecord record, uint? sequence = null)
    {
        var s = record.Stats;
        var scope = record.Scope == TaskstatsScope.Pid ? "pid" : "tgid";
        output.WriteLine($"{scope} {record.Id} ({s.AcComm ?? "?"})  struct taskstats v{s.Version}{(sequence is { } seq ? $"  seq {seq}" : "")}");
        output.WriteLine($"  {ExitStatus(s.AcExitcode)}  uid {Show(s.AcUid)}  gid {Show(s.AcGid)}  ppid {Show(s.AcPpid)}  tgid {Show(s.AcTgid)}  nice {Show(s.AcNice is { } n ? (sbyte)n : (sbyte?)null)}  flags {(s.AcFlag is { } f ? $"0x{f:x2}" : "-")}");
        if ((s.AcBtime64 ?? s.AcBtime) is { } start)
            output.WriteLine($"  started {DateTimeOffset.FromUnixTimeSeconds((long)start):yyyy-MM-dd HH:mm:ss}Z  elapsed {Seconds(s.AcEtime)} s");
        output.WriteLine("delays          count     total ms   average ms       max ms       min ms");
        foreach (var category in DelayReading.Categories)
        {
            var d = DelayReading.Of(s, category);
            output.WriteLine($"  {DelayReading.ShortName(category),-10}{Show(d.Count),9}{Millis(d.TotalNs),13}{Millis(d.AverageNs),13}{Millis(d.MaxNs),13}{Millis(d.MinNs),13}");
        }
        output.WriteLine($"cpu time        user {Seconds(s.AcUtime)} s  system {Seconds(s.AcStime)} s  run real {Millis(s.CpuRunRealTotal)} ms  run virtual {Millis(s.CpuRunVirtualTotal)} ms");
        output.WriteLine($"memory          rss high-water {Show(s.HiwaterRss)} KB  vm high-water {Show(s.HiwaterVm)} KB  minor faults {Show(s.AcMinflt)}  major faults {Show(s.AcMajflt)}");
        output.WriteLine($"io              read {Show(s.ReadChar)} B in {Show(s.ReadSyscalls)} syscalls  write {Show(s.WriteChar)} B in {Show(s.WriteSyscalls)} syscalls");
        output.WriteLine($"  storage       read {Show(s.ReadBytes)} B  write {Show(s.WriteBytes)} B  cancelled write {Show(s.CancelledWriteBytes)} B");
        output.WriteLine($"context         voluntary {Show(s.Nvcsw)}  involuntary {Show(s.Nivcsw)}");
    }

    /// <summary><c>ac_exitcode</c> is the wait status: exit code in bits 8-15, or the killing signal in bits 0-6.</summary>
    private static string ExitStatus(uint? status) => status switch
    {
        null => "exit status -",
        { } x when (x & 0x7f) == 0 => $"exit code {(x >> 8) & 0xff}",
        { } x => $"killed by signal {x & 0x7f}",
    };

    private static string Show<T>(T? value) where T : struct => value is { } v ? Convert.ToString(v, Invariant)! : "-";

    private static string Millis(double? ns) => ns is { } v ? (v / 1e6).ToString("0.000", Invariant) : "-";

    private static string Millis(ulong? ns) => Millis((double?)ns);

    private static string Seconds(ulong? us) => us is { } v ? (v / 1e6).ToString("0.000", Invariant) : "-";
}
