using System.Globalization;
using System.Text.Json;

namespace TaskstatsActors.Bench;

/// <summary>The harness's options.</summary>
internal sealed record BenchOptions
{
    public string Command { get; init; } = "all";
    public bool Smoke { get; init; }
    public bool NoSoak { get; init; }
    public int Runs { get; init; } = 3;
    public double MaxSeconds { get; init; } = 30;
    public double PacedSeconds { get; init; } = 15;
    public double LossSeconds { get; init; } = 10;
    public IReadOnlyList<double> PacedRates { get; init; } = [5_000, 20_000];
    public string StormMode { get; init; } = "vfork";
    public int Workers { get; init; } = 2;
    public double SoakMinutes { get; init; } = 10;
    public double SoakRate { get; init; } = 5_000;
    public double SoakSampleSeconds { get; init; } = 10;
    public double Settle { get; init; } = 1;
    public string? Output { get; init; }
    public string? Collector { get; init; }
    public bool Keep { get; init; }
    public IReadOnlySet<string>? Only { get; init; }
    public string? Before { get; init; }
    public string BeforeLabel { get; init; } = "an earlier build";

    public const string Usage = """
        usage: TaskstatsActors.Bench [all|storms|soak|report] [options]      (as root)
          all              storms, then the soak (unless --no-soak); writes BENCHMARKS.md at the repository root
          storms           the storms only (replaces their part of BENCHMARKS.md)
          soak             the soak only (replaces its part of BENCHMARKS.md)
          report           measures nothing: rewrites the report from the raw figures beside it (after a change to the report)
          --smoke          a few seconds: tiny storms, 1 run each, no soak; writes to a temporary file unless --out
        options:
          --runs N               runs per contender and storm (default 3; the median is reported)
          --seconds S            length of the maximum-rate storm (default 30)
          --paced-seconds S      length of the paced storms (default 15)
          --rates R,R            paced storms, exits/s (default 5000,20000)
          --loss-seconds S       length of the made-to-lose storm (default 10; 0 skips it)
          --storm vfork|thread   how the load generator makes exits (default vfork)
          --workers N            load generator workers (default 2)
          --soak-minutes M       soak length (default 10)   --soak-rate R   soak exits/s (default 5000)
          --no-soak              with all: skip the soak
          --out FILE             the report (default: BENCHMARKS.md at the repository root); raw figures go to FILE's .json
          --collector PATH       the taskstats-actors executable (default: the native build as ./taskstats-actors makes it,
                                 with the counting sink compiled in, published first into build/native-bench; with --smoke,
                                 the JIT build of this harness's configuration, src/TaskstatsActors.Cli/bin/<configuration>/net10.0)
          --only ID,ID           run only these contenders (ids as in the raw figures: baseline, c-recv, collect-default, ...)
          --before PATH          also run another build's taskstats-actors (e.g. of an earlier commit) on its own default
                                 config, as contender collect-before, for before/after figures from the same run
          --before-label TEXT    what --before is, for the tables (default "an earlier build")
          --keep                 keep the scratch directories (config, JSON Lines files, logs) of every run
        """;

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        var commandGiven = false;
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new BenchUsageException($"{args[i]} needs a value");
            double Number(double min)
            {
                var name = args[i];
                var text = Value();
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min
                    ? value
                    : throw new BenchUsageException($"{name} must be a number >= {min}, not \"{text}\"");
            }
            switch (args[i])
            {
                case "all" or "storms" or "soak" or "report" when !commandGiven:
                    options = options with { Command = args[i] };
                    commandGiven = true;
                    break;
                case "--smoke":
                    options = options with { Smoke = true };
                    break;
                case "--no-soak":
                    options = options with { NoSoak = true };
                    break;
                case "--runs":
                    options = options with { Runs = (int)Number(1) };
                    break;
                case "--seconds":
                    options = options with { MaxSeconds = Number(0.1) };
                    break;
                case "--paced-seconds":
                    options = options with { PacedSeconds = Number(0.1) };
                    break;
                case "--loss-seconds":
                    options = options with { LossSeconds = Number(0) };
                    break;
                case "--rates":
                    var rates = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    options = options with
                    {
                        PacedRates = rates.Select(r => double.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0
                            ? v : throw new BenchUsageException($"--rates: \"{r}\" is not a rate")).ToList(),
                    };
                    break;
                case "--storm":
                    var mode = Value();
                    options = mode is "vfork" or "thread" or "fork" ? options with { StormMode = mode } : throw new BenchUsageException("--storm must be vfork, thread or fork");
                    break;
                case "--workers":
                    options = options with { Workers = (int)Number(1) };
                    break;
                case "--soak-minutes":
                    options = options with { SoakMinutes = Number(0.1) };
                    break;
                case "--soak-rate":
                    options = options with { SoakRate = Number(1) };
                    break;
                case "--out":
                    options = options with { Output = Path.GetFullPath(Value()) };
                    break;
                case "--collector":
                    options = options with { Collector = Path.GetFullPath(Value()) };
                    break;
                case "--only":
                    options = options with { Only = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal) };
                    break;
                case "--before":
                    options = options with { Before = Path.GetFullPath(Value()) };
                    break;
                case "--before-label":
                    options = options with { BeforeLabel = Value() };
                    break;
                case "--keep":
                    options = options with { Keep = true };
                    break;
                case "-h" or "--help":
                    throw new BenchUsageException(null);
                default:
                    throw new BenchUsageException($"unknown argument \"{args[i]}\"");
            }
        }
        if (options.Smoke)
        {
            options = options with
            {
                Command = commandGiven ? options.Command : "storms",
                Runs = 1,
                MaxSeconds = Math.Min(options.MaxSeconds, 0.5),
                PacedSeconds = Math.Min(options.PacedSeconds, 0.5),
                PacedRates = [],
                LossSeconds = Math.Min(options.LossSeconds, 0.5),
                NoSoak = true,
                SoakMinutes = Math.Min(options.SoakMinutes, 0.25),
                SoakSampleSeconds = 1,
                Settle = 0.3,
            };
        }
        return options;
    }
}

internal sealed class BenchUsageException(string? message) : Exception(message);

/// <summary>The harness: storms, soak, report.</summary>
public static class Bench
{
    /// <summary>Runs the harness; returns the process exit status (0 done, 1 failed, 2 bad arguments, 3 not root).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (BenchUsageException e)
        {
            if (e.Message is { Length: > 0 } && e.Message != new BenchUsageException(null).Message)
                error.WriteLine($"bench: {e.Message}");
            error.WriteLine(BenchOptions.Usage);
            return 2;
        }
        try
        {
            return await RunAsync(options, args, output);
        }
        catch (BenchException e)
        {
            error.WriteLine($"bench: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(BenchOptions options, string[] args, TextWriter output)
    {
        if (options.Command == "report")
            return Rewrite(options, output);
        if (!HasCapNetAdmin())
            throw new BenchException("taskstats listeners need CAP_NET_ADMIN: run the benchmark as root");
        var repository = Repository.Find();
        // The benchmark measures what README runs: the native build. A smoke run takes the JIT build its own project
        // reference has built, so that the test suite does not wait a minute for a native compile.
        var collector = options.Collector ?? (options.Smoke ? repository.Collector(Repository.Configuration) : repository.BuildNativeCollector(output));
        if (!File.Exists(collector))
            throw new BenchException($"no collector at {collector}: build it first (dotnet build -c {Repository.Configuration}), or give --collector");
        var output_ = ReportPath(options, repository);
        // Now, not after the storms: a report whose directory is missing would be lost after an hour of them.
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output_))!);
        var rawPath = Path.ChangeExtension(output_, ".json");
        var invocation = "TaskstatsActors.Bench " + string.Join(' ', args);

        var work = Directory.CreateTempSubdirectory("taskstats-bench.");
        try
        {
            var tools = NativeTools.Build(repository, Path.Combine(work.FullName, "bin"));
            var collectorConfig = Repository.BuildOf(collector);
            if (!collectorConfig.StartsWith("Release", StringComparison.Ordinal) && !options.Smoke)
                output.WriteLine($"warning: the collector at {collector} is not a Release build; its figures are not the benchmark's");
            var machine = Machine(tools, collector, collectorConfig, repository);
            if (!options.Smoke && double.TryParse(machine.LoadAverage.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var load) && load > 0.5)
                output.WriteLine($"warning: load average {machine.LoadAverage}: the machine is not quiet, and the figures will show it");
            foreach (var other in OtherListeners())
                output.WriteLine($"warning: another taskstats listener seems to run (pid {other.Pid}: {other.CommandLine}); the baseline storms are then not listener-free, and the figures are skewed");
            var runner = new Runner(repository, tools, work.FullName, collector, options.StormMode, options.Workers, options.Keep, output)
            {
                Settle = TimeSpan.FromSeconds(options.Settle),
            };
            output.WriteLine($"bench: {options.Command}{(options.Smoke ? " (smoke)" : "")}; scratch in {work.FullName}; report to {output_}");

            var previous = BenchData.TryRead(rawPath);
            StormsData? storms = previous?.Storms;
            SoakResult? soak = previous?.Soak;
            if (options.Command is "all" or "storms")
                storms = await RunStormsAsync(options, runner, output, invocation);
            if (options.Command == "soak" || (options.Command == "all" && !options.NoSoak))
                soak = await RunSoakAsync(options, runner, output);

            var data = new BenchData(machine, storms, soak);
            await File.WriteAllTextAsync(rawPath, JsonSerializer.Serialize(data, BenchData.JsonOptions));
            Report.Write(output_, data, invocation);
            output.WriteLine($"bench: wrote {output_} and {rawPath}");
            if (options.Keep)
                output.WriteLine($"bench: kept the scratch directories in {work.FullName}");
            return 0;
        }
        finally
        {
            if (!options.Keep)
            {
                try
                {
                    work.Delete(recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    output.WriteLine($"note: could not delete {work.FullName}: {e.Message}");
                }
            }
        }
    }

    private static string ReportPath(BenchOptions options, Repository repository) =>
        options.Output ?? (options.Smoke
            ? Path.Combine(Path.GetTempPath(), $"taskstats-bench-smoke-{Environment.ProcessId}.md")
            : Path.Combine(repository.Root, "BENCHMARKS.md"));

    /// <summary>Rewrites the report from the raw figures of earlier runs, measuring nothing.</summary>
    private static int Rewrite(BenchOptions options, TextWriter output)
    {
        var path = ReportPath(options, Repository.Find());
        var rawPath = Path.ChangeExtension(path, ".json");
        var data = BenchData.TryRead(rawPath)
            ?? throw new BenchException($"no readable raw figures at {rawPath}: run the storms or the soak first");
        Report.Write(path, data, data.Storms?.Invocation ?? "TaskstatsActors.Bench report");
        output.WriteLine($"bench: rewrote {path} from {rawPath}");
        return 0;
    }

    /// <summary>The storms of issue 4 and the contenders of each.</summary>
    internal static IReadOnlyList<Scenario> Scenarios(BenchOptions options)
    {
        var online = ProcFs.ReadTrimmed("/sys/devices/system/cpu/online");
        var cpus = TaskstatsActors.Kernel.Cpus.CpuMask.Parse(online).ToArray();
        var perCpu = "[" + string.Join(", ", cpus.Select(c => $"\"{c}\"")) + "]";
        const long Big = 64L << 20;
        const long Tiny = 8L << 10;
        const long Huge = 256L << 20;
        IReadOnlyList<Contender> main =
        [
            Contender.Baseline,
            Contender.C("recv", 0),
            Contender.C("recv", Big),
            Contender.C("batch", 0),
            Contender.C("batch", Big),
            // The least any listener can cost the storm: the kernel still builds and queues a message per exit,
            // and this listener wakes once a second to drain them (a buffer big enough for a second at any rate).
            Contender.C("batch", Huge, id: Report.FloorContender, label: $"C batch, draining once a second, {Sizes.Short(Huge)} buffer") with { IntervalUs = 1_000_000 },
            Contender.Collect("collect-default", "collect, default config"),
            Contender.Collect("collect-one-shard", $"collect, one shard on all CPUs ({online})", $"taskstats.shards = [\"{online}\"]"),
            Contender.Collect("collect-per-cpu", "collect, one shard per CPU", $"taskstats.shards = {perCpu}"),
            // What JSON Lines, off by default, adds when an operator turns it on.
            Contender.Collect("collect-jsonl", "collect, default config with JSON Lines on", "taskstats.sinks.jsonl.enabled = on"),
            // Not a configuration anyone would run: it shows what the pipeline (listeners, stream, aggregator) costs
            // without the default sinks' formatting and writing; only the harness's counting sink remains.
            Contender.Collect("collect-no-sinks", "collect, default config without its console, history and Prometheus sinks",
                "taskstats.sinks.console.enabled = off", "taskstats.sinks.history.enabled = off", "taskstats.sinks.prometheus.enabled = off"),
        ];
        IReadOnlyList<Contender> lossy =
        [
            Contender.C("recv", Tiny),
            Contender.C("batch", Tiny),
            Contender.Collect("collect-tiny-buffer", "collect, 8 KiB buffers it may not grow",
                "taskstats.receive-buffer = 8 KiB", "taskstats.max-receive-buffer = 8 KiB"),
            new Contender("collect-slow-sink", "collect, a slow sink (100 µs per record, backpressure)", ContenderKind.Collect, SinkDelayPerRecordUs: 100),
        ];
        if (options.Before is { } before)
        {
            var contender = new Contender("collect-before", $"collect, default config, {options.BeforeLabel}", ContenderKind.Collect, Executable: before);
            if (!File.Exists(before) || !File.Exists(contender.ExecutableDefaultConfig))
                throw new BenchException($"--before {before}: no taskstats-actors with a config/taskstats.conf beside it");
            var list = main.ToList();
            list.Insert(list.FindIndex(c => c.Id == "collect-default") + 1, contender);
            main = list;
        }
        if (options.Smoke)
            lossy = lossy.Where(c => c.Id is "c-batch-8k" or "collect-tiny-buffer").ToList(); // the two that lose for sure, to keep the smoke run short
        Contender[] Filter(IReadOnlyList<Contender> all) => all.Where(c => options.Only is null || options.Only.Contains(c.Id)).ToArray();

        var scenarios = new List<Scenario>
        {
            new(Report.MaxScenario, $"Maximum exit rate, {options.MaxSeconds:0.#} s ({options.StormMode} storm, {options.Workers} workers)", options.MaxSeconds, 0, Filter(main),
                "The storm makes exits as fast as the machine allows while the contender listens on every CPU."),
        };
        foreach (var rate in options.PacedRates)
            scenarios.Add(new($"paced-{rate:0}", $"Paced at {rate:#,0} exits/s, {options.PacedSeconds:0.#} s", options.PacedSeconds, rate, Filter(main),
                "A steady load well within the machine's reach: the observer effect is ~1 by construction here; CPU per record and loss are what count."));
        if (options.LossSeconds > 0)
            scenarios.Add(new("lossy", $"Made to lose: tiny buffers and a slow sink, paced at 20,000 exits/s, {options.LossSeconds:0.#} s", options.LossSeconds, 20_000, Filter(lossy),
                "Set-ups that must lose records, to check that each contender's own account of its loss matches the measured loss. " +
                "An oracle listens beside each contender (see below), so the CPU and RSS figures here are not comparable with the other storms.", Oracle: true));
        return scenarios.Where(s => s.Contenders.Count > 0).ToList();
    }

    private static async Task<StormsData> RunStormsAsync(BenchOptions options, Runner runner, TextWriter output, string invocation)
    {
        var scenarios = Scenarios(options);
        var runs = new List<RunResult>();
        var started = DateTime.UtcNow;
        foreach (var scenario in scenarios)
        {
            output.WriteLine($"== {scenario.Title}");
            for (var round = 1; round <= options.Runs; round++)
            {
                // Rotate the order from round to round so that no contender always runs first or last.
                var order = scenario.Contenders.Skip((round - 1) % scenario.Contenders.Count)
                    .Concat(scenario.Contenders.Take((round - 1) % scenario.Contenders.Count)).ToList();
                foreach (var contender in order)
                {
                    var result = await runner.RunAsync(scenario, contender, round);
                    runs.Add(result);
                    output.WriteLine(result.Problem is { } problem
                        ? $"   run {round} {contender.Id,-22} FAILED: {problem}"
                        : $"   run {round} {contender.Id,-22} exits {result.Exits,9} rate {result.StormRate,9:0} received {result.Received,9} " +
                          $"lost {result.MeasuredLost,7}/{result.ReportedLost,-7} cpu {result.CpuSeconds,6:0.00}s ({result.StormCpuPer100K,6:0.000}/100k) rss {result.PeakRssKiB / 1024,5} MiB");
                }
            }
        }
        output.WriteLine($"bench: storms took {(DateTime.UtcNow - started).TotalMinutes:0.0} min");
        return new StormsData(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture), invocation, options.StormMode, options.Workers,
            options.Runs, options.Settle, new SortedDictionary<string, string>(runner.Commands), scenarios, runs, runs.Select(r => r.StructVersion).FirstOrDefault(v => v is not null));
    }

    private static async Task<SoakResult> RunSoakAsync(BenchOptions options, Runner runner, TextWriter output)
    {
        var contender = Contender.Collect("collect-default", "collect, default config");
        output.WriteLine($"== soak: {options.SoakMinutes:0.#} min at {options.SoakRate:0}/s, collect with its default config");
        var (run, samples) = await runner.SoakAsync(contender, options.SoakMinutes * 60, options.SoakRate, TimeSpan.FromSeconds(options.SoakSampleSeconds));
        output.WriteLine(run.Problem is { } problem
            ? $"   soak FAILED: {problem}"
            : $"   soak exits {run.Exits} received {run.Received} lost {run.MeasuredLost}/{run.ReportedLost} peak rss {run.PeakRssKiB / 1024} MiB, {samples.Count} samples");
        var stormKey = $"storm at {(options.SoakRate).ToString(CultureInfo.InvariantCulture)}/s for {(options.SoakMinutes * 60).ToString(CultureInfo.InvariantCulture)} s";
        var commands = runner.Commands.Where(c => c.Key == "contender collect-default" || c.Key == stormKey).Select(c => c.Value).ToList();
        runner.Commands.TryGetValue(Runner.CollectConfigKey, out var config);
        return new SoakResult
        {
            Minutes = options.SoakMinutes,
            Rate = options.SoakRate,
            Samples = samples,
            Run = run,
            Date = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            Commands = commands,
            SampleSeconds = options.SoakSampleSeconds,
            Config = config,
        };
    }

    private static MachineInfo Machine(NativeTools tools, string collector, string collectorConfig, Repository repository)
    {
        var cpuinfo = File.ReadAllLines("/proc/cpuinfo");
        var model = cpuinfo.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var memTotal = File.ReadAllLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var memory = memTotal is null ? "?" : $"{long.Parse(memTotal.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0 / 1024.0:0.0} GiB (MemTotal)";
        var commit = Exec.Run("git", ["-C", repository.Root, "rev-parse", "--short", "HEAD"]).Out.Trim();
        var dirty = Exec.Run("git", ["-C", repository.Root, "status", "--porcelain", "--untracked-files=no"]).Out.Trim().Length > 0;
        var delay = ProcFs.ReadTrimmed("/proc/sys/kernel/task_delayacct");
        return new MachineInfo(
            Environment.ProcessorCount,
            ProcFs.ReadTrimmed("/sys/devices/system/cpu/online"),
            model,
            memory,
            ProcFs.ReadTrimmed("/proc/sys/kernel/osrelease"),
            delay == "1" ? "1 (on)" : $"{delay} (off: most delay fields are 0; it does not change what is measured here)",
            $".NET {Environment.Version}",
            tools.CompilerVersion,
            $"{collectorConfig} ({Path.GetRelativePath(repository.Root, collector)})",
            commit.Length == 0 ? "?" : commit + (dirty ? " with uncommitted changes" : ""),
            ProcFs.ReadTrimmed("/proc/loadavg"));
    }

    /// <summary>Processes of the collector's command line (collect, listen, top, …) other than this harness's own.</summary>
    private static IEnumerable<(int Pid, string CommandLine)> OtherListeners()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
                continue;
            string commandLine;
            try
            {
                commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ').Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            var program = commandLine.Split(' ', 2)[0];
            if (Path.GetFileName(program) is "taskstats-actors" or "getdelays" || commandLine.Contains("taskstats-actors.dll", StringComparison.Ordinal))
                yield return (pid, commandLine.Length > 120 ? commandLine[..120] + "…" : commandLine);
        }
    }

    private static bool HasCapNetAdmin()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                return ulong.TryParse(line[7..].Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var mask) && (mask & (1UL << 12)) != 0;
        }
        return false;
    }
}
