using System.Text.Json.Serialization;

namespace TaskstatsActors.Bench;

/// <summary>What kind of program listens during a storm.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ContenderKind>))]
public enum ContenderKind
{
    /// <summary>Nobody: the storm alone, for the observer effect.</summary>
    Baseline,

    /// <summary><c>bench/reference/listener.c</c>.</summary>
    CReference,

    /// <summary><c>taskstats-actors collect</c>.</summary>
    Collect,
}

/// <summary>One listener set-up the storms are run against.</summary>
/// <param name="Id">Short stable name (used in the raw results).</param>
/// <param name="Label">The name in the tables.</param>
/// <param name="Kind">Baseline, C reference or collect.</param>
/// <param name="Mode">C reference: <c>recv</c> or <c>batch</c>.</param>
/// <param name="ReceiveBuffer">C reference: <c>--rcvbuf</c> bytes; 0 keeps the kernel's default.</param>
/// <param name="IntervalUs">
/// C reference in batch mode: <c>--interval-us</c>, the sleep between drains, with <c>--batch 1024</c> (the listener's most
/// per <c>recvmmsg</c>, for the backlog a long sleep leaves); null keeps the listener's ~1 ms and 64.
/// </param>
/// <param name="ConfigOverrides">Collect: HOCON lines appended to the default config (after the harness's own).</param>
/// <param name="SinkDelayPerRecordUs">Collect: makes the harness's counting sink this slow per record.</param>
/// <param name="Executable">
/// Collect: another build's <c>taskstats-actors</c> (an earlier commit, for before/after figures in the same run);
/// it runs on its own default config, the <c>config/taskstats.conf</c> beside it. Null: the build under test.
/// </param>
public sealed record Contender(
    string Id,
    string Label,
    ContenderKind Kind,
    string? Mode = null,
    long ReceiveBuffer = 0,
    long? IntervalUs = null,
    IReadOnlyList<string>? ConfigOverrides = null,
    double SinkDelayPerRecordUs = 0,
    string? Executable = null)
{
    public static Contender Baseline { get; } = new("baseline", "no listener (baseline)", ContenderKind.Baseline);

    public static Contender C(string mode, long receiveBuffer, string? id = null, string? label = null) =>
        new(id ?? $"c-{mode}{(receiveBuffer == 0 ? "" : "-" + Sizes.Id(receiveBuffer))}",
            label ?? $"C {mode}, {(receiveBuffer == 0 ? "default buffer" : Sizes.Short(receiveBuffer) + " buffer")}",
            ContenderKind.CReference, Mode: mode, ReceiveBuffer: receiveBuffer);

    public static Contender Collect(string id, string label, params string[] overrides) =>
        new(id, label, ContenderKind.Collect, ConfigOverrides: overrides);

    /// <summary>Collect with another build: that build's default config, the <c>config/taskstats.conf</c> beside its executable.</summary>
    [JsonIgnore]
    public string? ExecutableDefaultConfig =>
        Executable is { } other ? Path.Combine(Path.GetDirectoryName(other)!, "config", "taskstats.conf") : null;

    /// <summary>The collector's default config, nothing overridden but where the files go.</summary>
    public bool IsCollectDefault => Kind == ContenderKind.Collect && (ConfigOverrides is null || ConfigOverrides.Count == 0) && SinkDelayPerRecordUs == 0 && Executable is null;
}

/// <summary>A storm and the contenders run against it.</summary>
/// <param name="Id">Short stable name.</param>
/// <param name="Title">Heading in the report.</param>
/// <param name="Seconds">Storm length.</param>
/// <param name="Rate">Paced exits per second; 0 for as fast as the machine allows.</param>
/// <param name="Contenders">In the order of the tables (the baseline first when there is one).</param>
/// <param name="Purpose">One line on what the scenario shows.</param>
/// <param name="Oracle">Run a lossless C listener (batch mode, 64 MiB) beside each contender, to count the other tasks' exits.</param>
public sealed record Scenario(string Id, string Title, double Seconds, double Rate, IReadOnlyList<Contender> Contenders, string Purpose, bool Oracle = false)
{
    public bool HasBaseline => Contenders.Any(c => c.Kind == ContenderKind.Baseline);
}

/// <summary>The figures of one contender in one run of one storm.</summary>
public sealed record RunResult
{
    public required string Scenario { get; init; }
    public required string Contender { get; init; }
    public required int Run { get; init; }
    public required string Comm { get; init; }

    /// <summary>Exits the load generator made (each one exit record with <see cref="Comm"/>).</summary>
    public long Exits { get; init; }
    public double StormSeconds { get; init; }
    public double StormRate { get; init; }

    /// <summary>Task records with the storm's comm that the contender received.</summary>
    public long? Received { get; init; }

    /// <summary>All exit messages the contender received (the storm's and everything else that exited).</summary>
    public long? Messages { get; init; }

    /// <summary><see cref="Exits"/> - <see cref="Received"/>.</summary>
    public long? MeasuredLost => Received is { } received ? Exits - received : null;

    /// <summary>What the contender said it lost: the C reference's SO_MEMINFO drop count, collect's summary <c>lost</c>.</summary>
    public long? ReportedLost { get; init; }

    /// <summary>ENOBUFS incidents (collect: its <c>overflows</c>).</summary>
    public long? Enobufs { get; init; }

    /// <summary>collect: socket replacements and listener restarts.</summary>
    public long? Restarts { get; init; }

    /// <summary>collect: duplicates its handovers caught (the summary's <c>duplicates</c>, all shards).</summary>
    public long? Duplicates { get; init; }

    /// <summary>
    /// collect: drops counted as lost during a handover's overlap that may have reached the new socket too (the
    /// summary's <c>uncertain</c>, all shards): how far its reported loss may exceed the true one.
    /// </summary>
    public long? Uncertain { get; init; }

    /// <summary>
    /// utime + stime over the contender's whole life: the C reference's own getrusage(RUSAGE_SELF) at its end;
    /// collect's from its zombie's /proc/PID/stat.
    /// </summary>
    public double? CpuSeconds { get; init; }

    /// <summary>utime + stime read from /proc/PID/stat just before the storm started.</summary>
    public double? CpuAtStormStart { get; init; }

    /// <summary>utime + stime read from /proc/PID/stat just before the contender was told to stop (0.3 s after the storm).</summary>
    public double? CpuAtStop { get; init; }

    /// <summary>The same by another way, as a check: the C reference's zombie /proc/PID/stat, collect's wait4 rusage.</summary>
    public double? CpuCheck { get; init; }

    /// <summary>Peak RSS in KiB: the larger of the last VmHWM polled from /proc/PID/status and wait4's ru_maxrss.</summary>
    public long? PeakRssKiB { get; init; }

    /// <summary>collect: the receive buffer(s) granted, as logged.</summary>
    public string? Buffer { get; init; }

    /// <summary>C reference: the <c>version</c> of the <c>struct taskstats</c> it decoded.</summary>
    public int? StructVersion { get; init; }

    /// <summary>Something went wrong in this run (the figures may be missing).</summary>
    public string? Problem { get; init; }

    /// <summary>CPU seconds per 100,000 received messages over the whole life.</summary>
    public double? CpuPer100K => CpuSeconds is { } cpu && Messages is > 0 ? cpu / Messages.Value * 100_000 : null;

    /// <summary>CPU seconds per 100,000 received messages from the storm's start to the contender's exit.</summary>
    public double? StormCpuPer100K =>
        CpuSeconds is { } cpu && CpuAtStormStart is { } start && Messages is > 0 ? (cpu - start) / Messages.Value * 100_000 : null;

    /// <summary>CPU seconds from the storm's start to the stop signal: the storm and the drain, without start-up or shutdown.</summary>
    public double? StormToStopCpuSeconds => CpuAtStop - CpuAtStormStart;

    /// <summary><see cref="StormToStopCpuSeconds"/> per 100,000 received messages.</summary>
    public double? StormToStopCpuPer100K =>
        StormToStopCpuSeconds is { } cpu && Messages is > 0 ? cpu / Messages.Value * 100_000 : null;

    /// <summary>CPU seconds from the stop signal to the exit: deregistering, the last drain, flushing the sinks, stopping the runtime.</summary>
    public double? ShutdownCpuSeconds => CpuSeconds is { } cpu && CpuAtStop is { } stop ? cpu - stop : null;

    /// <summary>Reported loss minus measured loss (0 when they agree).</summary>
    public long? LossDifference => ReportedLost is { } reported && MeasuredLost is { } measured ? reported - measured : null;

    /// <summary>Non-storm messages received: exits of other tasks that the contender also saw.</summary>
    public long? OtherMessages => Messages is { } messages && Received is { } received ? messages - received : null;

    /// <summary>Oracle (a lossless C listener beside the contender, in the storms that have one): non-storm messages it received.</summary>
    public long? OracleOtherMessages { get; init; }

    /// <summary>Oracle: messages its own socket dropped (must be 0 for its count to bound anything).</summary>
    public long? OracleDrops { get; init; }

    /// <summary>Oracle: records with the storm's comm it received (must equal <see cref="Exits"/>).</summary>
    public long? OracleReceived { get; init; }

    /// <summary>
    /// How the contender's own loss figure compares with the measured one. The contender counts every
    /// exit message it lost, the storm's and those of any other task that exited meanwhile, while the
    /// measurement sees only the storm's; so a contender may rightly report more than measured, by
    /// the other tasks' messages it lost. Where an oracle listened beside it, the other tasks'
    /// messages it did not receive are known, and bound that excess.
    /// </summary>
    public LossVerdict Verdict
    {
        get
        {
            if (LossDifference is not { } difference)
                return LossVerdict.Missing;
            if (difference == 0)
                return LossVerdict.Exact;
            if (difference < 0)
                return LossVerdict.Disagrees;
            if (OracleOtherMessages is { } oracleOthers && OracleDrops == 0 && OtherMessages is { } others)
                return difference <= oracleOthers - others ? LossVerdict.Explained : LossVerdict.Disagrees;
            return LossVerdict.Unproven;
        }
    }

    /// <summary>Exact, or explained by other tasks' lost messages.</summary>
    public bool LossAgrees => Verdict is LossVerdict.Exact or LossVerdict.Explained;
}

/// <summary>How a contender's reported loss compares with the measured loss.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LossVerdict>))]
public enum LossVerdict
{
    /// <summary>Figures missing (a failed run, or the baseline).</summary>
    Missing,

    /// <summary>Reported = measured.</summary>
    Exact,

    /// <summary>Reported exceeds measured by no more than the other tasks' messages it did not receive (known from the oracle).</summary>
    Explained,

    /// <summary>Reported exceeds measured, and no oracle listened to say whether other tasks' messages explain it.</summary>
    Unproven,

    /// <summary>Reported below measured, or above it by more than the other tasks' messages can explain.</summary>
    Disagrees,
}

/// <summary>One RSS sample of the soak.</summary>
public sealed record SoakSample(double Seconds, long RssKiB, long HwmKiB, double CpuSeconds);

/// <summary>The soak's figures.</summary>
public sealed record SoakResult
{
    public required double Minutes { get; init; }
    public required double Rate { get; init; }
    public required IReadOnlyList<SoakSample> Samples { get; init; }
    public required RunResult Run { get; init; }
    public required string Date { get; init; }
    public required IReadOnlyList<string> Commands { get; init; }
    public double SampleSeconds { get; init; } = 10;
    public string? Config { get; init; }
}

/// <summary>Byte sizes as the report writes them.</summary>
internal static class Sizes
{
    public static string Short(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1L << 10 when bytes % (1L << 10) == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} B",
    };

    public static string Id(long bytes) => bytes % (1L << 20) == 0 ? $"{bytes >> 20}m" : bytes % (1L << 10) == 0 ? $"{bytes >> 10}k" : $"{bytes}";
}
