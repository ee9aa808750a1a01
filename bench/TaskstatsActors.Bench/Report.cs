using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TaskstatsActors.Bench;

/// <summary>The machine the figures come from.</summary>
public sealed record MachineInfo(
    int Cpus,
    string OnlineCpus,
    string Model,
    string Memory,
    string Kernel,
    string DelayAccounting,
    string DotNet,
    string Compiler,
    string CollectorBuild,
    string Commit,
    string LoadAverage);

/// <summary>Everything the storms produced.</summary>
public sealed record StormsData(
    string Date,
    string Invocation,
    string StormMode,
    int Workers,
    int RunsPerContender,
    double Settle,
    IReadOnlyDictionary<string, string> Commands,
    IReadOnlyList<Scenario> Scenarios,
    IReadOnlyList<RunResult> Runs,
    int? StructVersion);

/// <summary>The raw results kept beside the report (so that a partial rerun can rebuild the targets).</summary>
public sealed record BenchData(MachineInfo Machine, StormsData? Storms, SoakResult? Soak)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    public static BenchData? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<BenchData>(File.ReadAllText(path), JsonOptions) : null;
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException)
        {
            return null;
        }
    }
}

/// <summary>Writes BENCHMARKS.md: blocks between markers, so that a partial rerun replaces only its own blocks.</summary>
internal static class Report
{
    public const string MaxScenario = "max";
    private const double MegaByte = 1_000_000;

    /// <summary>Target thresholds from issue 4.</summary>
    private const double ObserverTarget = 0.85;
    private const double BatchCpuFactor = 1.5;
    private const double RssTargetBytes = 100 * MegaByte;

    /// <summary>The C listener that drains once a second: the least any listener costs the storm (the observer effect's floor).</summary>
    internal const string FloorContender = "c-batch-1s";

    public static void Write(string path, BenchData data, string invocation)
    {
        var blocks = new List<(string Name, string? Text)> { ("header", Header(data, invocation, Path.ChangeExtension(Path.GetFileName(path), ".json"))) };
        if (data.Storms is { } storms)
        {
            blocks.Add(("storms", Storms(storms)));
            // A comparison left from another run's storms would claim "the runs above" that are no longer there.
            blocks.Add(("before-after", BeforeAfter(storms)));
        }
        if (data.Soak is { } soak)
            blocks.Add(("soak", Soak(soak)));
        blocks.Add(("targets", Targets(data)));
        var existing = File.Exists(path) ? File.ReadAllText(path) : null;
        File.WriteAllText(path, Merge(existing, blocks), new UTF8Encoding(false));
    }

    private static string Begin(string name) => $"<!-- bench:begin {name} (written by bench/TaskstatsActors.Bench; edits inside are overwritten) -->";
    private static string End(string name) => $"<!-- bench:end {name} -->";

    /// <summary>Replaces each block in <paramref name="existing"/>, or adds it; a block without text is removed.</summary>
    internal static string Merge(string? existing, IReadOnlyList<(string Name, string? Text)> blocks)
    {
        string Wrapped((string Name, string? Text) block) => Begin(block.Name) + "\n" + block.Text!.TrimEnd() + "\n" + End(block.Name);
        if (existing is null)
            return "# Benchmarks\n\n" + string.Join("\n\n", blocks.Where(b => b.Text is not null).Select(Wrapped)) + "\n";
        var text = existing;
        foreach (var block in blocks)
        {
            var beginPrefix = $"<!-- bench:begin {block.Name} ";
            var start = text.IndexOf(beginPrefix, StringComparison.Ordinal);
            var end = start < 0 ? -1 : text.IndexOf(End(block.Name), start, StringComparison.Ordinal);
            if (block.Text is null)
            {
                if (start >= 0 && end >= 0)
                    text = text[..start].TrimEnd() + "\n\n" + text[(end + End(block.Name).Length)..].TrimStart();
                continue;
            }
            if (start >= 0 && end >= 0)
            {
                text = text[..start] + Wrapped(block) + text[(end + End(block.Name).Length)..];
                continue;
            }
            var targets = text.IndexOf("<!-- bench:begin targets ", StringComparison.Ordinal);
            text = block.Name != "targets" && targets >= 0
                ? text[..targets] + Wrapped(block) + "\n\n" + text[targets..]
                : text.TrimEnd() + "\n\n" + Wrapped(block) + "\n";
        }
        return text;
    }

    private static string Header(BenchData data, string invocation, string rawName)
    {
        var m = data.Machine;
        var text = new StringBuilder();
        text.AppendLine("How TaskstatsActors compares with plain C taskstats listeners under storms of task exits, what it costs, and");
        text.AppendLine("whether it knows exactly what it lost (issue 4). Rerun everything with");
        text.AppendLine();
        text.AppendLine("```sh");
        text.AppendLine("dotnet run --project bench/TaskstatsActors.Bench -c Release -- all");
        text.AppendLine("```");
        text.AppendLine();
        text.AppendLine("as root, on a quiet machine (`storms` or `soak` alone rerun one part; `--no-soak` skips the soak).");
        text.AppendLine($"Every run's raw figures are in `{rawName}` beside this file.");
        text.AppendLine();
        text.AppendLine("## Machine");
        text.AppendLine();
        text.AppendLine("| | |");
        text.AppendLine("| --- | --- |");
        text.AppendLine($"| CPUs (nproc) | {m.Cpus} (online {m.OnlineCpus}) |");
        text.AppendLine($"| model name | {m.Model} |");
        text.AppendLine($"| memory | {m.Memory} |");
        text.AppendLine($"| kernel (uname -r) | {m.Kernel} |");
        if (data.Storms?.StructVersion is { } version)
            text.AppendLine($"| struct taskstats | version {version} |");
        text.AppendLine($"| kernel.task_delayacct | {m.DelayAccounting} |");
        text.AppendLine($"| .NET | {m.DotNet} |");
        text.AppendLine($"| C compiler | {m.Compiler} (`cc -O2`) |");
        text.AppendLine($"| collector build | {m.CollectorBuild} |");
        text.AppendLine($"| commit | {m.Commit} |");
        text.AppendLine($"| load average at start | {m.LoadAverage} |");
        text.AppendLine($"| last invocation | `{invocation}` |");
        return text.ToString();
    }

    private static string Storms(StormsData storms)
    {
        var text = new StringBuilder();
        text.AppendLine("## Exit storms");
        text.AppendLine();
        text.AppendLine($"Run on {storms.Date}. Storm: `loadgen --mode {storms.StormMode} --workers {storms.Workers}` (tools/loadgen/loadgen.c); " +
                        $"each figure is the median of {storms.RunsPerContender} run(s); the contenders take turns within each round " +
                        "(the order rotates from round to round), and every run has a storm of its own with a command name of its own.");
        text.AppendLine();
        foreach (var scenario in storms.Scenarios)
            AppendScenario(text, scenario, ContenderFigures.Of(scenario, storms.Runs));
        text.AppendLine("### Commands");
        text.AppendLine();
        text.AppendLine("COMM is the run's own command name (`tsbench` + 6 random characters), RUNDIR the run's scratch directory.");
        text.AppendLine("Every contender runs under `bench/reference/runstat` (`runstat --out FILE -- COMMAND…`), which reports its CPU time and peak RSS.");
        text.AppendLine();
        foreach (var (what, command) in storms.Commands.Where(c => c.Key != Runner.CollectConfigKey).OrderBy(c => c.Key, StringComparer.Ordinal))
            text.AppendLine($"* {what}: `{command}`");
        text.AppendLine();
        if (storms.Commands.TryGetValue(Runner.CollectConfigKey, out var config))
        {
            text.AppendLine("Every `collect` run's config, RUNDIR/collect.conf, is `config/taskstats.conf` followed by these lines (and then the contender's own):");
            text.AppendLine();
            text.AppendLine("```hocon");
            text.AppendLine(config);
            text.AppendLine("```");
            text.AppendLine();
        }
        AppendMethod(text, storms);
        return text.ToString();
    }

    internal static void AppendScenario(StringBuilder text, Scenario scenario, IReadOnlyList<ContenderFigures> figures)
    {
        text.AppendLine($"### {scenario.Title}");
        text.AppendLine();
        text.AppendLine(scenario.Purpose);
        text.AppendLine();
        text.AppendLine("| contender | exits made | records received | lost (measured) | lost (reported) | reported = measured | ENOBUFS | restarts | CPU s / 100k records | CPU s / 100k, storm only | storm rate /s | observer effect | peak RSS MB | buffer |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var f in figures)
        {
            var isBaseline = f.Contender.Kind == ContenderKind.Baseline;
            var agree = isBaseline || f.Runs.Count == 0 ? "" : AgreementCell(f.Runs);
            text.AppendLine($"| {f.Contender.Label}{(f.Failed.Count > 0 ? $" ({f.Failed.Count} failed)" : "")} | {N(f.Exits)} | {N(f.Received)} | {N(f.MeasuredLost)} | {N(f.ReportedLost)} | {agree} | " +
                            $"{N(f.Enobufs)} | {N(f.Restarts)} | {D(f.CpuPer100K, 3)} | {D(f.StormCpuPer100K, 3)} | {N(f.StormRate)} | {P(f.ObserverEffect)} | " +
                            $"{D(f.PeakRssKiB * 1024 / MegaByte, 1)} | {f.Buffer ?? ""} |");
        }
        text.AppendLine();
        foreach (var f in figures)
        {
            foreach (var failed in f.Failed)
                text.AppendLine($"* {f.Contender.Label}, run {failed.Run} failed: {failed.Problem}");
            foreach (var run in f.Runs.Where(r => r.Verdict is not (LossVerdict.Exact or LossVerdict.Missing)))
                text.AppendLine($"* {f.Contender.Label}, run {run.Run}: reported {run.ReportedLost} lost, measured {run.MeasuredLost}: {Explain(run)}");
        }

        var collects = figures.Where(f => f.Contender.Kind == ContenderKind.Collect && f.Runs.Count > 0).ToList();
        var references = figures.Where(f => f.Contender.Kind == ContenderKind.CReference && f.Runs.Count > 0).ToList();
        if (collects.Count > 0 && references.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Collector ÷ C reference (medians of this storm; below 1 is better for CPU and RSS, above 1 better for the observer effect):");
            text.AppendLine();
            text.AppendLine("| collect | C reference | CPU / record | CPU / record, storm only | observer effect | peak RSS | lost (collect vs C) |");
            text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var c in collects)
            {
                foreach (var r in references)
                    text.AppendLine($"| {c.Contender.Label} | {r.Contender.Label} | {R(c.CpuPer100K, r.CpuPer100K)} | {R(c.StormCpuPer100K, r.StormCpuPer100K)} | " +
                                    $"{R(c.ObserverEffect, r.ObserverEffect)} | {R(c.PeakRssKiB, r.PeakRssKiB)} | {N(c.MeasuredLost)} vs {N(r.MeasuredLost)} |");
            }
        }
        AppendCpuPhases(text, collects);
        text.AppendLine();
    }

    /// <summary>
    /// Where each collect contender's CPU went: start-up, the storm with its drain, and shutdown (medians of the runs). The
    /// one-time costs (compiling code at its first call, stopping the runtime) weigh on a short, slow storm's figure per record.
    /// </summary>
    private static void AppendCpuPhases(StringBuilder text, IReadOnlyList<ContenderFigures> collects)
    {
        var measured = collects.Where(c => c.Runs.Any(r => r.CpuAtStop is not null)).ToList();
        if (measured.Count == 0)
            return;
        text.AppendLine();
        text.AppendLine("Where `collect`'s CPU went (medians of the runs; CPU s): start-up is everything before the storm; " +
                        "storm and drain runs to the stop signal, 0.3 s after the storm; shutdown is from the stop signal to the exit.");
        text.AppendLine();
        text.AppendLine("| collect | start-up | storm and drain | shutdown | CPU s / 100k, storm and drain | CPU s / 100k, storm only (with shutdown) |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var c in measured)
        {
            var runs = c.Runs.Where(r => r.CpuAtStop is not null).ToList();
            text.AppendLine($"| {c.Contender.Label} | {D(Stats.Median(runs.Select(r => r.CpuAtStormStart)), 2)} | " +
                            $"{D(Stats.Median(runs.Select(r => r.StormToStopCpuSeconds)), 2)} | {D(Stats.Median(runs.Select(r => r.ShutdownCpuSeconds)), 2)} | " +
                            $"{D(Stats.Median(runs.Select(r => r.StormToStopCpuPer100K)), 3)} | {D(c.StormCpuPer100K, 3)} |");
        }
    }

    private static string AgreementCell(IReadOnlyList<RunResult> runs)
    {
        var exact = runs.Count(r => r.Verdict == LossVerdict.Exact);
        if (exact == runs.Count)
            return $"{exact}/{runs.Count}";
        var parts = new List<string> { $"{exact} exact" };
        foreach (var (verdict, word) in new[] { (LossVerdict.Explained, "explained"), (LossVerdict.Unproven, "unproven"), (LossVerdict.Disagrees, "**DISAGREE**") })
        {
            var count = runs.Count(r => r.Verdict == verdict);
            if (count > 0)
                parts.Add($"{count} {word}");
        }
        return string.Join(", ", parts);
    }

    private static string Explain(RunResult run) => run.Verdict switch
    {
        LossVerdict.Explained => $"explained: the oracle saw {run.OracleOtherMessages} messages of other tasks, the contender {run.OtherMessages}, so it lost up to {run.OracleOtherMessages - run.OtherMessages} of them beside the storm's.",
        LossVerdict.Unproven => $"reported exceeds measured by {run.LossDifference}; other tasks exited meanwhile ({run.OtherMessages} of their messages arrived) and no oracle listened in this storm to count the ones lost.",
        LossVerdict.Disagrees when run.LossDifference < 0 => $"**DISAGREES**: {-run.LossDifference} records went missing without being reported{OwnFigures(run)}.",
        LossVerdict.Disagrees => $"**DISAGREES**: {run.LossDifference} more reported than measured, more than the other tasks' messages it missed ({run.OracleOtherMessages - run.OtherMessages}; oracle drops {run.OracleDrops}){OwnFigures(run)}.",
        _ => "",
    };

    // collect's own account of what it may have miscounted, to tell a disagreement's cause.
    internal static string OwnFigures(RunResult run) => run.Uncertain is null && run.Duplicates is null
        ? ""
        : $"; its own figures: {run.Uncertain ?? 0} uncertain (handover drops that may have reached the new socket too), {run.Duplicates ?? 0} duplicates caught";

    private static void AppendMethod(StringBuilder text, StormsData storms)
    {
        text.AppendLine("### How each figure is measured");
        text.AppendLine();
        text.AppendLine("* **exits made**: what the load generator reports (`exits=`): tasks it created and reaped or joined; each one sends exactly one exit record with COMM.");
        text.AppendLine("* **records received**: task records with COMM that reached the contender: the C reference decodes every message (walks the attributes, reads `ac_comm` from the `struct taskstats`) and counts them; for `collect` a counting sink of the harness (`TaskstatsActors.Bench.CountingSink`, named in HOCON beside the default sinks: compiled into the native build the harness publishes into `build/native-bench`, loaded from its assembly by a JIT build) counts what the stream delivers.");
        text.AppendLine("* **lost (measured)** = exits made − records received. **lost (reported)**: the contender's own account: the C reference's socket drop counter (`SO_MEMINFO[SK_MEMINFO_DROPS]`, read after deregistering and draining); for `collect`, the `lost` of its end-of-run summary (the harness also checks that its sinks were told the same number).");
        text.AppendLine("* **reported = measured**: runs in which the two are equal. A contender counts every exit message it lost, while the measurement sees only the storm's, so when other tasks exit during a lossy run the contender rightly reports more than measured. In the storms made to lose, an *oracle* (the C reference in batch mode with a 64 MiB buffer, registered before the contender and deregistered after it; its own drop counter must stay 0) counts the other tasks' messages: a run is *explained* when the excess is no more than the other tasks' messages the oracle saw and the contender did not. Without an oracle such a run is *unproven*. Reporting less than measured always *disagrees*. Every run that is not exact is listed under its table.");
        text.AppendLine("* **ENOBUFS**: receive calls that failed with `ENOBUFS` (C reference), the `overflows` of the collector's summary. **restarts**: socket replacements by the collector's watchdog.");
        text.AppendLine("* **CPU s / 100k records**: user + system CPU time of the contender's process over its whole life, per 100,000 exit messages it received (the storm's and any others). The C reference reports its own `getrusage(RUSAGE_SELF)` just before it exits; for `collect`, `runstat` reads fields 14 and 15 (utime, stime) of its `/proc/PID/stat` once it has exited but before it is reaped (clock ticks ÷ 100). Each is checked against the other way (`wait4`'s rusage, the zombie's stat) in the raw figures (`cpuCheck`). **storm only**: the same minus the CPU time it had used just before the storm started, so the collector's start-up (runtime, JIT, actor system) is left out; the storm-only figure includes the drain and shutdown after the storm. Under each storm's ratios, a table splits `collect`'s CPU into start-up, storm and drain (to the stop signal), and shutdown.");
        text.AppendLine($"* **storm rate**: exits per second the load generator achieved. **observer effect** = storm rate with the contender attached ÷ the median storm rate of the baseline runs (no listener) of the same storm.");
        text.AppendLine("* **peak RSS**: the larger of VmHWM polled from `/proc/PID/status` every 200 ms until the contender is told to stop, and `wait4`'s `ru_maxrss` (the kernel's high-water mark of the process when it exited). MB = 10^6 bytes.");
        text.AppendLine("* **buffer**: the receive buffer the kernel granted (it doubles what is asked). `collect` with its default config asks 4 MiB per listener.");
        text.AppendLine("* **C batch, draining once a second**: the C reference asleep for a second between drains, with a buffer that holds a second at any rate. The kernel builds and queues a message for every exit in the exiting task whatever a listener does, so this one's observer effect is about the best any listener can have on this machine.");
        text.AppendLine($"* A contender starts, registers (the harness waits for its `registered` line; for `collect`, one per shard), then idles {storms.Settle:0.#} s before the storm; 0.3 s after the storm it gets SIGTERM, deregisters, drains its socket and exits. After each run the harness calls sync(2) so that one run's file writes do not slow the next storm.");
        text.AppendLine("* `collect` runs the default `config/taskstats.conf` (console, history and Prometheus sinks, 10 s windows, status line) in the run's scratch directory, so that each run writes a history of its own (`data/taskstats.db`) and, where a contender turns it on, a JSON Lines file of its own; the harness adds its counting sink. The contenders' own lines are under Commands.");
        text.AppendLine();
    }

    private static string Soak(SoakResult soak)
    {
        var text = new StringBuilder();
        text.AppendLine("## Soak");
        text.AppendLine();
        text.AppendLine($"Run on {soak.Date}: `collect` with its default config for {soak.Minutes:0.#} minutes of exits paced at {soak.Rate:#,0}/s; " +
                        $"RSS (VmRSS and VmHWM from `/proc/PID/status`) and CPU time sampled every {soak.SampleSeconds:0.#} s from the storm's start.");
        text.AppendLine();
        foreach (var command in soak.Commands)
            text.AppendLine($"* `{command}`");
        text.AppendLine();
        if (soak.Config is { } config)
        {
            text.AppendLine("RUNDIR/collect.conf is `config/taskstats.conf` followed by:");
            text.AppendLine();
            text.AppendLine("```hocon");
            text.AppendLine(config);
            text.AppendLine("```");
            text.AppendLine();
        }
        var run = soak.Run;
        text.AppendLine($"Exits made {run.Exits:#,0}, records received {N(run.Received)}, lost measured {N(run.MeasuredLost)}, reported {N(run.ReportedLost)}, " +
                        $"ENOBUFS {N(run.Enobufs)}, CPU {D(run.CpuSeconds, 1)} s ({D(run.StormCpuPer100K, 3)} s per 100k records, storm only), peak RSS {D(run.PeakRssKiB * 1024 / MegaByte, 1)} MB" +
                        (run.Problem is null ? "." : $". Problem: {run.Problem}"));
        text.AppendLine();
        var verdict = Flatness(soak);
        text.AppendLine($"**{verdict.Text}**");
        text.AppendLine();
        text.AppendLine("| t (s) | RSS MB | VmHWM MB | CPU s |");
        text.AppendLine("| ---: | ---: | ---: | ---: |");
        foreach (var sample in soak.Samples)
            text.AppendLine($"| {sample.Seconds:0} | {sample.RssKiB * 1024 / MegaByte:0.0} | {sample.HwmKiB * 1024 / MegaByte:0.0} | {sample.CpuSeconds:0.00} |");
        text.AppendLine();
        return text.ToString();
    }

    internal sealed record FlatnessVerdict(bool Flat, string Text);

    /// <summary>
    /// Flat: over the samples after the first minute (warm-up), the least-squares trend of RSS would grow
    /// it by at most max(5 MB, 5 %) over that span.
    /// </summary>
    internal static FlatnessVerdict Flatness(SoakResult soak)
    {
        var warmUp = Math.Min(60, soak.Minutes * 60 / 5);
        var steady = soak.Samples.Where(s => s.Seconds >= warmUp).Select(s => (s.Seconds, s.RssKiB * 1024 / MegaByte)).ToList();
        if (steady.Count < 3)
            return new FlatnessVerdict(false, "Too few samples to judge flatness.");
        var slope = Stats.Slope(steady); // MB per second
        var span = steady[^1].Item1 - steady[0].Item1;
        var growth = slope * span;
        var mean = steady.Average(p => p.Item2);
        var allowed = Math.Max(5, 0.05 * mean);
        var flat = growth <= allowed;
        var min = steady.Min(p => p.Item2);
        var max = steady.Max(p => p.Item2);
        return new FlatnessVerdict(flat,
            $"{(flat ? "Flat" : "NOT flat")}: after {warmUp:0} s of warm-up RSS stays within {min:0.0}–{max:0.0} MB; its trend is {slope * 60:+0.00;-0.00} MB/min, " +
            $"{growth:+0.0;-0.0} MB over {span / 60:0.#} min (allowed: {allowed:0.0} MB, the larger of 5 MB and 5 %).");
    }

    /// <summary>collect with its default config against an earlier build's (<c>--before</c>), scenario by scenario, from the same run.</summary>
    private static string? BeforeAfter(StormsData storms)
    {
        var rows = new List<string>();
        string? label = null;
        foreach (var scenario in storms.Scenarios)
        {
            var figures = ContenderFigures.Of(scenario, storms.Runs);
            var after = figures.FirstOrDefault(f => f.Contender.IsCollectDefault);
            var before = figures.FirstOrDefault(f => f.Contender.Id == "collect-before");
            if (after is null || before is null)
                continue;
            label = before.Contender.Label;
            rows.Add($"| {scenario.Title} | {D(before.StormCpuPer100K, 3)} → {D(after.StormCpuPer100K, 3)} ({R(after.StormCpuPer100K, before.StormCpuPer100K)}) | " +
                     $"{P(before.ObserverEffect)} → {P(after.ObserverEffect)} | {D(before.PeakRssKiB * 1024 / MegaByte, 1)} → {D(after.PeakRssKiB * 1024 / MegaByte, 1)} MB | " +
                     $"{N(before.MeasuredLost)} → {N(after.MeasuredLost)} |");
        }
        if (rows.Count == 0)
            return null;
        var text = new StringBuilder();
        text.AppendLine("## Before and after");
        text.AppendLine();
        text.AppendLine($"`collect` with its default config, this build against \"{label}\", each on its own default config, in the same run " +
                        "(medians of the runs above; the ratio is after ÷ before, below 1 is better).");
        text.AppendLine();
        text.AppendLine("| storm | CPU s per 100k records, storm only | storm rate kept | peak RSS | lost (measured) |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var row in rows)
            text.AppendLine(row);
        return text.ToString();
    }

    private static string Targets(BenchData data)
    {
        var text = new StringBuilder();
        text.AppendLine("## Targets (issue 4)");
        text.AppendLine();
        text.AppendLine("| target | met? | figures |");
        text.AppendLine("| --- | :---: | --- |");
        var storms = data.Storms;
        var max = storms?.Scenarios.FirstOrDefault(s => s.Id == MaxScenario);
        var maxFigures = max is null || storms is null ? null : ContenderFigures.Of(max, storms.Runs);
        var collectDefault = maxFigures?.FirstOrDefault(f => f.Contender.IsCollectDefault);
        var cRecv = maxFigures?.FirstOrDefault(f => f.Contender.Id == "c-recv");
        var cBatch = maxFigures?.FirstOrDefault(f => f.Contender.Id == "c-batch");
        var floor = maxFigures?.FirstOrDefault(f => f.Contender.Id == FloorContender);

        // 1. No loss at the maximum rate for 30 s.
        if (collectDefault is { Runs.Count: > 0 } cd && max is not null)
        {
            var lost = cd.Runs.Select(r => r.MeasuredLost ?? -1).ToList();
            var met = lost.All(l => l == 0) && cd.Failed.Count == 0;
            var shortNote = max.Seconds < 30 ? $" (this storm lasted {max.Seconds:0.#} s, not 30 s)" : "";
            text.AppendLine($"| `collect` (default config) loses 0 records at the maximum exit rate for 30 s | {YesNo(met && max.Seconds >= 30, met)} | " +
                            $"lost per run: {string.Join(", ", lost)} of ~{N(cd.Exits)} exits at ~{N(cd.StormRate)}/s{shortNote} |");
        }
        else
            text.AppendLine("| `collect` (default config) loses 0 records at the maximum exit rate for 30 s | – | not run |");

        // 2. Reported loss equals measured loss in every scenario.
        if (storms is not null)
        {
            var collectRuns = storms.Runs.Where(r => storms.Scenarios.SelectMany(s => s.Contenders).Any(c => c.Id == r.Contender && c.Kind == ContenderKind.Collect) && r.Problem is null).ToList();
            var lossy = collectRuns.Where(r => r.MeasuredLost > 0 || r.ReportedLost > 0).ToList();
            var exact = collectRuns.Count(r => r.Verdict == LossVerdict.Exact);
            var explained = collectRuns.Count(r => r.Verdict == LossVerdict.Explained);
            var unproven = collectRuns.Count(r => r.Verdict == LossVerdict.Unproven);
            var disagree = collectRuns.Count(r => r.Verdict is LossVerdict.Disagrees or LossVerdict.Missing);
            var soakVerdict = data.Soak?.Run is { Problem: null } soakRun ? soakRun.Verdict : (LossVerdict?)null;
            var met = disagree == 0 && unproven == 0 && collectRuns.Count > 0 && soakVerdict is null or LossVerdict.Exact or LossVerdict.Explained;
            var cell = disagree > 0 || soakVerdict == LossVerdict.Disagrees ? "**no**" : met ? "yes" : "not proven";
            text.AppendLine($"| its reported loss equals the measured loss in every scenario, including ones made to lose | {cell} | " +
                            $"{collectRuns.Count} `collect` runs: {exact} exact, {explained} explained by other tasks' lost messages, {unproven} unproven, {disagree} disagree; " +
                            $"{lossy.Count} of them lost records: " +
                            (lossy.Count == 0 ? "none" : string.Join(", ", lossy.Select(r => $"{r.Contender} {r.ReportedLost} reported / {r.MeasuredLost} measured"))) +
                            (soakVerdict is null ? "" : $"; soak: {soakVerdict.Value.ToString().ToLowerInvariant()}") + " |");
        }

        // 3. CPU per record, in every storm where collect (default config) and both C listeners ran: a collector
        //    that is cheap only at the maximum rate, where its batches are full, does not meet it.
        var cpu = CpuComparisons(storms);
        if (cpu.Count > 0 && collectDefault is not null && cRecv is not null && cBatch is not null)
        {
            var whole = collectDefault.CpuPer100K;
            var metRecv = cpu.All(c => c.Collect <= c.Recv);
            var metBatch = cpu.All(c => c.Collect <= BatchCpuFactor * c.Batch);
            text.AppendLine($"| CPU per record no more than the one-`recv` C listener's | {YesNo(metRecv, metRecv)} | storm only, collect vs C recv, s per 100k: " +
                            string.Join("; ", cpu.Select(c => $"{c.Storm} {c.Collect:0.000} vs {c.Recv:0.000} ({c.Collect / c.Recv:0.00}×)")) +
                            $"; whole life incl. start-up, at the maximum rate: {D(whole, 3)} vs {D(cRecv.CpuPer100K, 3)} ({R(whole, cRecv.CpuPer100K)}) |");
            text.AppendLine($"| … and within 1.5× of the batched C listener's | {YesNo(metBatch, metBatch)} | storm only, collect vs C batch, s per 100k: " +
                            string.Join("; ", cpu.Select(c => $"{c.Storm} {c.Collect:0.000} vs {c.Batch:0.000} ({c.Collect / c.Batch:0.00}×)")) +
                            $"; whole life, at the maximum rate: {D(whole, 3)} vs {D(cBatch.CpuPer100K, 3)} ({R(whole, cBatch.CpuPer100K)}) |");
        }
        else
            text.AppendLine("| CPU per record ≤ one-`recv` C listener's, ≤ 1.5× the batched C listener's | – | not run |");

        // 4. Observer effect.
        if (collectDefault?.ObserverEffect is { } observer)
        {
            var met = observer >= ObserverTarget;
            text.AppendLine($"| the storm keeps at least 85 % of its rate with `collect` attached | {YesNo(met, met)} | {observer:P0} with collect (default config); " +
                            $"C recv {P(cRecv?.ObserverEffect)}, C batch {P(cBatch?.ObserverEffect)}" +
                            (floor?.ObserverEffect is { } least ? $", the C listener that drains once a second (what any listener costs the storm at least) {P(least)}" : "") +
                            "; other collect layouts: " +
                            string.Join(", ", maxFigures!.Where(f => f.Contender.Kind == ContenderKind.Collect && !f.Contender.IsCollectDefault).Select(f => $"{f.Contender.Label} {P(f.ObserverEffect)}")) + " |");
        }
        else
            text.AppendLine("| the storm keeps at least 85 % of its rate with `collect` attached | – | not run |");

        // 5. Pipeline capacity: part 4.
        text.AppendLine("| pipeline capacity ≥ 1,000,000 records/s on one core; the decoder allocates nothing per record beyond the record | see part 4 | measured without the kernel by `bench/TaskstatsActors.Benchmarks` (BenchmarkDotNet), not by this harness |");

        // 6. Peak RSS.
        var rssFigures = new List<(string What, long KiB)>();
        if (storms is not null)
        {
            foreach (var scenario in storms.Scenarios)
            {
                foreach (var f in ContenderFigures.Of(scenario, storms.Runs).Where(f => f.Contender.Kind == ContenderKind.Collect))
                {
                    foreach (var run in f.Runs.Where(r => r.PeakRssKiB is not null))
                        rssFigures.Add(($"{scenario.Id}/{f.Contender.Id}", run.PeakRssKiB!.Value));
                }
            }
        }
        if (data.Soak?.Run.PeakRssKiB is { } soakPeak)
            rssFigures.Add(("soak", soakPeak));
        if (rssFigures.Count > 0)
        {
            var worst = rssFigures.MaxBy(r => r.KiB);
            var met = worst.KiB * 1024 <= RssTargetBytes;
            text.AppendLine($"| peak RSS at most 100 MB | {YesNo(met, met)} | highest of every `collect` run: {worst.KiB * 1024 / MegaByte:0.0} MB ({worst.What}); " +
                            $"default config at the maximum rate: {D(collectDefault?.PeakRssKiB * 1024 / MegaByte, 1)} MB |");
        }
        else
            text.AppendLine("| peak RSS at most 100 MB | – | not run |");

        // 7. Flat over the soak.
        if (data.Soak is { } soak)
        {
            var verdict = Flatness(soak);
            text.AppendLine($"| RSS flat over the soak ({soak.Minutes:0.#} min at {soak.Rate:#,0}/s) | {YesNo(verdict.Flat && soak.Minutes >= 10, verdict.Flat)} | {verdict.Text.Replace("|", "/")} |");
        }
        else
            text.AppendLine("| RSS flat over a 10-minute soak at 5,000 exits/s | – | soak not run |");
        text.AppendLine();
        text.AppendLine("\"yes\" and \"no\" judge the figures above against the targets; \"yes (short run)\" means the figures meet the target but the run was shorter than the target asks (a smoke run).");
        return text.ToString();
    }

    private static string YesNo(bool metFully, bool metByFigures) => metFully ? "yes" : metByFigures ? "yes (short run)" : "**no**";

    /// <summary>Storm-only CPU per 100k records of collect (default config) and the two default-buffer C listeners, per storm that ran all three.</summary>
    private static List<(string Storm, double Collect, double Recv, double Batch)> CpuComparisons(StormsData? storms)
    {
        var rows = new List<(string, double, double, double)>();
        foreach (var scenario in storms?.Scenarios ?? [])
        {
            var figures = ContenderFigures.Of(scenario, storms!.Runs);
            if (figures.FirstOrDefault(f => f.Contender.IsCollectDefault)?.StormCpuPer100K is { } collect
                && figures.FirstOrDefault(f => f.Contender.Id == "c-recv")?.StormCpuPer100K is { } recv
                && figures.FirstOrDefault(f => f.Contender.Id == "c-batch")?.StormCpuPer100K is { } batch)
                rows.Add((scenario.Rate == 0 ? "maximum rate" : $"{N(scenario.Rate)}/s", collect, recv, batch));
        }
        return rows;
    }

    private static string N(double? value) => value is { } v ? v.ToString("#,0", CultureInfo.InvariantCulture) : "–";

    private static string D(double? value, int decimals) => value is { } v ? v.ToString("F" + decimals, CultureInfo.InvariantCulture) : "–";

    private static string P(double? value) => value is { } v ? v.ToString("P0", CultureInfo.InvariantCulture) : "–";

    private static string R(double? a, double? b) => a is { } x && b is { } y && y != 0 ? (x / y).ToString("0.00", CultureInfo.InvariantCulture) + "×" : "–";
}
