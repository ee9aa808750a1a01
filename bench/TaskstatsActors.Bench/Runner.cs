using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TaskstatsActors.Collector.Settings;

namespace TaskstatsActors.Bench;

/// <summary>Runs one storm against one contender and gathers the figures.</summary>
internal sealed partial class Runner(
    Repository repository,
    NativeTools tools,
    string workDirectory,
    string collector,
    string stormMode,
    int workers,
    bool keepFiles,
    TextWriter log)
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan RssPollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Quiet time between a contender being ready and the storm (the collector finishes starting up).</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The exact commands run, by what they are (first seen wins).</summary>
    public Dictionary<string, string> Commands { get; } = new(StringComparer.Ordinal);

    /// <summary>The key of <see cref="Commands"/> under which the HOCON lines appended to every collect run's config are kept.</summary>
    public const string CollectConfigKey = "collect config";

    private static string SinksAssembly => typeof(CountingSink).Assembly.Location;

    public IReadOnlyList<string> StormArguments(double seconds, double rate, string comm)
    {
        var arguments = new List<string> { "--mode", stormMode, "--workers", Invariant(workers), "--duration", Invariant(seconds) };
        if (rate > 0)
            arguments.AddRange(["--rate", Invariant(rate)]);
        arguments.AddRange(["--comm", comm]);
        return arguments;
    }

    public async Task<RunResult> RunAsync(Scenario scenario, Contender contender, int run)
    {
        var comm = NewComm();
        var directory = Path.Combine(workDirectory, $"{scenario.Id}-{contender.Id}-{run}");
        Directory.CreateDirectory(directory);
        var basis = new RunResult { Scenario = scenario.Id, Contender = contender.Id, Run = run, Comm = comm };
        try
        {
            if (contender.Kind == ContenderKind.Baseline)
                return await RunBaselineAsync(scenario, basis);
            using var oracle = scenario.Oracle ? await StartOracleAsync(basis.Comm, directory) : null;
            var result = contender.Kind == ContenderKind.CReference
                ? await RunCReferenceAsync(scenario, contender, basis, directory)
                : await RunCollectAsync(scenario.Seconds, scenario.Rate, contender, basis, directory, null);
            return oracle is null ? result : await StopOracleAsync(oracle, result);
        }
        catch (Exception e) when (e is BenchException or IOException or InvalidDataException or JsonException or TimeoutException or ConfigException)
        {
            return basis with { Problem = e.Message };
        }
        finally
        {
            Exec.Sync();
            if (!keepFiles)
                TryDelete(directory);
        }
    }

    /// <summary>The soak: collect with its default config under a paced storm, RSS sampled every <paramref name="sampleEvery"/>.</summary>
    public async Task<(RunResult Run, IReadOnlyList<SoakSample> Samples)> SoakAsync(Contender contender, double seconds, double rate, TimeSpan sampleEvery)
    {
        var comm = NewComm();
        var directory = Path.Combine(workDirectory, "soak");
        Directory.CreateDirectory(directory);
        var basis = new RunResult { Scenario = "soak", Contender = contender.Id, Run = 1, Comm = comm };
        var samples = new List<SoakSample>();
        try
        {
            var result = await RunCollectAsync(seconds, rate, contender, basis, directory, (pid, storm) => SampleAsync(pid, storm, sampleEvery, samples));
            return (result, samples);
        }
        catch (Exception e) when (e is BenchException or IOException or InvalidDataException or JsonException or TimeoutException or ConfigException)
        {
            return (basis with { Problem = e.Message }, samples);
        }
        finally
        {
            Exec.Sync();
            if (!keepFiles)
                TryDelete(directory);
        }
    }

    private static async Task SampleAsync(int pid, Task storm, TimeSpan every, List<SoakSample> samples)
    {
        var start = DateTime.UtcNow;
        var next = TimeSpan.Zero;
        while (true)
        {
            if (ProcFs.Memory(pid) is { } memory && ProcFs.CpuSeconds(pid) is { } cpu)
                samples.Add(new SoakSample(Math.Round((DateTime.UtcNow - start).TotalSeconds, 1), memory.Rss, memory.Hwm, cpu));
            next += every;
            var wait = start + next - DateTime.UtcNow;
            if (wait > TimeSpan.Zero && await Task.WhenAny(storm, Task.Delay(wait)) == storm)
                break;
            if (storm.IsCompleted)
                break;
        }
        // One last sample at the end of the storm.
        if (ProcFs.Memory(pid) is { } last && ProcFs.CpuSeconds(pid) is { } lastCpu)
            samples.Add(new SoakSample(Math.Round((DateTime.UtcNow - start).TotalSeconds, 1), last.Rss, last.Hwm, lastCpu));
    }

    /// <summary>A lossless C listener registered before the contender and deregistered after it, to count every exit meanwhile.</summary>
    private async Task<WatchedProcess> StartOracleAsync(string comm, string directory)
    {
        var arguments = new List<string> { "--mode", "batch", "--rcvbuf", Invariant(64L << 20), "--comm", comm };
        Remember("oracle", Exec.CommandLine("listener", arguments.Select(a => a == comm ? "COMM" : a)));
        var oracle = new WatchedProcess(tools.Listener, arguments, directory);
        await ReadyAsync(oracle, () => oracle.CountLines(line => line.StartsWith("registered ", StringComparison.Ordinal)) >= 1);
        return oracle;
    }

    private static async Task<RunResult> StopOracleAsync(WatchedProcess oracle, RunResult result)
    {
        oracle.Signal(Exec.SigTerm);
        if (!await oracle.WaitForExitAsync(ExitTimeout))
            return result with { Problem = Join(result.Problem, "the oracle did not stop") };
        var line = LastJsonLine(oracle.Out);
        if (line is null)
            return result with { Problem = Join(result.Problem, $"the oracle printed no result: {Tail(oracle.Error)}") };
        var figures = JsonDocument.Parse(line).RootElement;
        var received = figures.GetProperty("comm_records").GetInt64();
        var drops = figures.GetProperty("drops").GetInt64();
        var problem = result.Problem;
        if (drops == 0 && received != result.Exits && result.Problem is null)
            problem = $"the oracle received {received} storm records without a drop, but the load generator made {result.Exits}";
        return result with
        {
            OracleOtherMessages = figures.GetProperty("other_messages").GetInt64(),
            OracleDrops = drops,
            OracleReceived = received,
            Problem = problem,
        };
    }

    private static string Join(string? first, string second) => first is null ? second : first + "; " + second;

    private async Task<RunResult> RunBaselineAsync(Scenario scenario, RunResult basis)
    {
        var storm = await StormAsync(scenario.Seconds, scenario.Rate, basis.Comm);
        return basis with { Exits = storm.Exits, StormSeconds = storm.Seconds, StormRate = storm.Rate };
    }

    private async Task<RunResult> RunCReferenceAsync(Scenario scenario, Contender contender, RunResult basis, string directory)
    {
        var runstatOut = Path.Combine(directory, "runstat.json");
        var listenerArguments = new List<string> { "--mode", contender.Mode ?? "recv" };
        if (contender.ReceiveBuffer > 0)
            listenerArguments.AddRange(["--rcvbuf", Invariant(contender.ReceiveBuffer)]);
        if (contender.IntervalUs is { } interval)
            listenerArguments.AddRange(["--interval-us", Invariant(interval), "--batch", "1024"]);
        listenerArguments.AddRange(["--comm", basis.Comm]);
        var arguments = new List<string> { "--out", runstatOut, "--", tools.Listener };
        arguments.AddRange(listenerArguments);
        Remember($"contender {contender.Id}", Exec.CommandLine("listener", listenerArguments.Select(a => a == basis.Comm ? "COMM" : a)));

        using var process = new WatchedProcess(tools.Runstat, arguments, directory);
        var pid = await ChildPidAsync(process);
        await ReadyAsync(process, () => process.CountLines(line => line.StartsWith("registered ", StringComparison.Ordinal)) >= 1);
        var measured = await MeasureAsync(process, pid, basis, scenario.Seconds, scenario.Rate);
        var listener = JsonDocument.Parse(LastJsonLine(process.Out) ?? throw new BenchException($"the C listener printed no result: {Tail(process.Error)}")).RootElement;
        var runstat = JsonDocument.Parse(await File.ReadAllTextAsync(runstatOut)).RootElement;
        return measured with
        {
            Received = listener.GetProperty("comm_records").GetInt64(),
            Messages = listener.GetProperty("messages").GetInt64(),
            ReportedLost = listener.GetProperty("drops").GetInt64(),
            Enobufs = listener.GetProperty("enobufs").GetInt64(),
            // The listener's own getrusage(RUSAGE_SELF) at its end (microseconds); the zombie's /proc/PID/stat (ticks) as the check.
            CpuSeconds = listener.GetProperty("cpu_s").GetDouble(),
            CpuCheck = StatCpu(runstat),
            PeakRssKiB = Math.Max(measured.PeakRssKiB ?? 0, Math.Max(runstat.GetProperty("ru_maxrss_kb").GetInt64(), listener.GetProperty("vmhwm_kb").GetInt64())),
            Buffer = Sizes.Short(listener.GetProperty("rcvbuf_granted").GetInt64()),
            StructVersion = listener.GetProperty("struct_version").GetInt32() is > 0 and var v ? v : null,
            Problem = process.ExitCode == 0 ? null : $"the C listener exited with status {process.ExitCode}: {Tail(process.Error)}",
        };
    }

    private async Task<RunResult> RunCollectAsync(double seconds, double rate, Contender contender, RunResult basis, string directory,
        Func<int, Task, Task>? duringStorm)
    {
        var configPath = Path.Combine(directory, "collect.conf");
        var countPath = Path.Combine(directory, "count.json");
        var runstatOut = Path.Combine(directory, "runstat.json");
        var compiledIn = Repository.HasBenchSinks(contender.Executable ?? collector);
        var appended = HarnessConfig(contender, basis.Comm, directory, countPath, compiledIn);
        await File.WriteAllTextAsync(configPath,
            await File.ReadAllTextAsync(DefaultConfigOf(contender)) + "\n" + string.Join('\n', appended) + "\n", new UTF8Encoding(false));
        string Generic(string line) => line.Replace(basis.Comm, "COMM", StringComparison.Ordinal)
            .Replace(directory, "RUNDIR", StringComparison.Ordinal).Replace(SinksAssembly, "…/TaskstatsActors.Bench.Sinks.dll", StringComparison.Ordinal);
        Remember(CollectConfigKey, string.Join('\n', HarnessConfig(contender with { ConfigOverrides = [], SinkDelayPerRecordUs = 0 }, basis.Comm, directory, countPath, compiledIn).Select(Generic)));
        var own = (contender.ConfigOverrides ?? []).ToList();
        if (contender.SinkDelayPerRecordUs > 0)
            own.Add($"taskstats.sinks.bench-count.delay-per-record-us = {Invariant(contender.SinkDelayPerRecordUs)}");
        Remember($"contender {contender.Id}", "taskstats-actors collect --config RUNDIR/collect.conf" +
            (own.Count == 0 ? " (the default config and the harness's lines, nothing else)" : $" with also: {string.Join("; ", own)}"));

        var shards = SettingsLoader.Load(SettingsLoader.ParseFile(configPath)).Shards.Count;
        var arguments = new List<string> { "--out", runstatOut, "--", contender.Executable ?? collector, "collect", "--config", configPath };
        using var process = new WatchedProcess(tools.Runstat, arguments, directory);
        var pid = await ChildPidAsync(process);
        await ReadyAsync(process, () => process.CountLines(IsRegisteredLine) >= shards);
        var measured = await MeasureAsync(process, pid, basis, seconds, rate, duringStorm);

        var output = process.Out;
        var summary = SummaryLine().Match(output);
        if (!summary.Success)
            throw new BenchException($"collect printed no summary (exit status {process.ExitCode}): {Tail(process.Error)} {Tail(output)}");
        var counts = File.Exists(countPath) ? SinkCounts.Read(countPath) : throw new BenchException($"the counting sink wrote no {countPath}: {Tail(output)}");
        var runstat = JsonDocument.Parse(await File.ReadAllTextAsync(runstatOut)).RootElement;
        var reportedLost = long.Parse(summary.Groups["lost"].Value, CultureInfo.InvariantCulture);
        var problems = new List<string>();
        if (process.ExitCode != 0)
            problems.Add($"collect exited with status {process.ExitCode}: {Tail(process.Error)}");
        if (counts.Lost != reportedLost)
            problems.Add($"the sinks were told of {counts.Lost} lost, the summary says {reportedLost}");
        var shardRows = ShardSummaryRow().Matches(output);
        var buffers = RegisteredLine().Matches(output).Select(m => Sizes.Short(long.Parse(m.Groups["bytes"].Value, CultureInfo.InvariantCulture))).Distinct();
        return measured with
        {
            Received = counts.CommRecords,
            Messages = counts.Messages,
            ReportedLost = reportedLost,
            Enobufs = long.Parse(summary.Groups["overflows"].Value, CultureInfo.InvariantCulture),
            Restarts = long.Parse(summary.Groups["restarts"].Value, CultureInfo.InvariantCulture),
            Duplicates = SumOf(shardRows, "duplicates"),
            Uncertain = SumOf(shardRows, "uncertain"),
            // The zombie's /proc/PID/stat (ticks); wait4's rusage as the check.
            CpuSeconds = StatCpu(runstat),
            CpuCheck = runstat.GetProperty("ru_utime_s").GetDouble() + runstat.GetProperty("ru_stime_s").GetDouble(),
            PeakRssKiB = Math.Max(measured.PeakRssKiB ?? 0, runstat.GetProperty("ru_maxrss_kb").GetInt64()),
            Buffer = string.Join(", ", buffers),
            Problem = problems.Count == 0 ? null : string.Join("; ", problems),
        };
    }

    /// <summary>The default config the contender's build runs on: the repository's, or the one beside another build's executable.</summary>
    private string DefaultConfigOf(Contender contender) => contender.ExecutableDefaultConfig ?? repository.DefaultConfig;

    /// <summary>The HOCON lines the harness appends to the default config for one collect run.</summary>
    /// <param name="sinkCompiledIn">The executable has the counting sink compiled in (a native build of the harness's).</param>
    private static List<string> HarnessConfig(Contender contender, string comm, string directory, string countPath, bool sinkCompiledIn)
    {
        var lines = new List<string>
        {
            "# ---- appended by the benchmark harness",
            $"taskstats.sinks.jsonl.path = {Hocon(Path.Combine(directory, "exits.jsonl"))}",
            "taskstats.sinks.bench-count {",
            "  class = \"TaskstatsActors.Bench.CountingSink, TaskstatsActors.Bench.Sinks\"",
        };
        if (!sinkCompiledIn)
            lines.Add($"  assembly-path = {Hocon(SinksAssembly)}");
        lines.AddRange(
        [
            $"  comm = {Hocon(comm)}",
            $"  path = {Hocon(countPath)}",
        ]);
        if (contender.SinkDelayPerRecordUs > 0)
            lines.Add($"  delay-per-record-us = {Invariant(contender.SinkDelayPerRecordUs)}");
        lines.Add("}");
        lines.AddRange(contender.ConfigOverrides ?? []);
        return lines;
    }

    /// <summary>Starts the RSS poll, runs the storm, stops the contender and waits for its end.</summary>
    private async Task<RunResult> MeasureAsync(WatchedProcess process, int pid, RunResult basis, double seconds, double rate, Func<int, Task, Task>? duringStorm = null)
    {
        await Task.Delay(Settle);
        if (process.HasExited)
            throw new BenchException($"the contender ended before the storm (status {process.ExitCode}): {Tail(process.Error)} {Tail(process.Out)}");
        var cpuAtStart = ProcFs.CpuSeconds(pid);
        using var stopPolling = new CancellationTokenSource();
        var peak = 0L;
        var poll = Task.Run(async () =>
        {
            while (!stopPolling.IsCancellationRequested)
            {
                if (ProcFs.Memory(pid) is { } memory)
                    peak = Math.Max(peak, memory.Hwm);
                try
                {
                    await Task.Delay(RssPollInterval, stopPolling.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        var stormTask = StormAsync(seconds, rate, basis.Comm);
        if (duringStorm is not null)
            await duringStorm(pid, stormTask);
        var storm = await stormTask;
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        if (ProcFs.Memory(pid) is { } final)
            peak = Math.Max(peak, final.Hwm);
        var cpuAtStop = ProcFs.CpuSeconds(pid);
        process.Signal(Exec.SigTerm);
        var ended = await process.WaitForExitAsync(ExitTimeout);
        stopPolling.Cancel();
        await poll;
        if (!ended)
            throw new BenchException($"the contender did not stop within {ExitTimeout.TotalSeconds:0} s of SIGTERM and was killed");
        return basis with
        {
            Exits = storm.Exits,
            StormSeconds = storm.Seconds,
            StormRate = storm.Rate,
            CpuAtStormStart = cpuAtStart,
            CpuAtStop = cpuAtStop,
            PeakRssKiB = peak,
        };
    }

    private sealed record StormResult(long Exits, double Seconds, double Rate);

    private Task<StormResult> StormAsync(double seconds, double rate, string comm) =>
        Task.Run(() =>
        {
            var arguments = StormArguments(seconds, rate, comm);
            Remember(rate > 0 ? $"storm at {Invariant(rate)}/s for {Invariant(seconds)} s" : $"storm at the maximum rate for {Invariant(seconds)} s",
                Exec.CommandLine("loadgen", arguments.Select(a => a == comm ? "COMM" : a)));
            var result = Exec.Run(tools.Loadgen, arguments);
            var line = result.Out.Split('\n').FirstOrDefault(l => l.StartsWith("exits=", StringComparison.Ordinal));
            if (result.ExitCode != 0 || line is null)
                throw new BenchException($"loadgen failed (status {result.ExitCode}): {result.Error.Trim()} {result.Out.Trim()}");
            var fields = line.Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
            return new StormResult(long.Parse(fields["exits"], CultureInfo.InvariantCulture),
                double.Parse(fields["seconds"], CultureInfo.InvariantCulture), double.Parse(fields["rate"], CultureInfo.InvariantCulture));
        });

    private static async Task<int> ChildPidAsync(WatchedProcess process)
    {
        var line = await process.WaitForLine(l => l.StartsWith("child=", StringComparison.Ordinal)).WaitAsync(ReadyTimeout);
        return int.Parse(line["child=".Length..], CultureInfo.InvariantCulture);
    }

    private static async Task ReadyAsync(WatchedProcess process, Func<bool> ready)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (!ready())
        {
            if (process.HasExited)
                throw new BenchException($"the contender ended before it was registered (status {process.ExitCode}): {Tail(process.Error)} {Tail(process.Out)}");
            if (DateTime.UtcNow > deadline)
                throw new BenchException($"the contender did not register within {ReadyTimeout.TotalSeconds:0} s: {Tail(process.Error)} {Tail(process.Out)}");
            await Task.Delay(50);
        }
    }

    private static bool IsRegisteredLine(string line) => line.Contains("registered, receive buffer", StringComparison.Ordinal);

    private static double StatCpu(JsonElement runstat)
    {
        var stat = runstat.GetProperty("stat_utime_s").GetDouble() + runstat.GetProperty("stat_stime_s").GetDouble();
        return stat >= 0 ? stat : runstat.GetProperty("ru_utime_s").GetDouble() + runstat.GetProperty("ru_stime_s").GetDouble();
    }

    private static string? LastJsonLine(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));

    private void Remember(string what, string command)
    {
        lock (Commands)
            Commands.TryAdd(what, command);
    }

    private static string NewComm()
    {
        const string digits = "abcdefghijklmnopqrstuvwxyz0123456789";
        var name = new StringBuilder("tsbench");
        for (var i = 0; i < 6; i++)
            name.Append(digits[RandomNumberGenerator.GetInt32(digits.Length)]);
        return name.ToString();
    }

    private static string Hocon(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);

    private static string Tail(string text, int length = 600)
    {
        text = text.Trim();
        return text.Length <= length ? text : "…" + text[^length..];
    }

    private void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.WriteLine($"note: could not delete {directory}: {e.Message}");
        }
    }

    [GeneratedRegex(@"collected for (?<seconds>[\d.]+) s: (?<records>\d+) records, (?<lost>\d+) lost, (?<overflows>\d+) overflow incidents, (?<restarts>\d+) restarts")]
    private static partial Regex SummaryLine();

    /// <summary>A column of the summary's per-shard table, summed over its rows; null when collect printed no table.</summary>
    internal static long? SumOf(MatchCollection rows, string column) =>
        rows.Count == 0 ? null : rows.Sum(row => long.Parse(row.Groups[column].Value, CultureInfo.InvariantCulture));

    /// <summary>A row of the summary's per-shard table (shard, cpus, records, lost, overflows, restarts, duplicates, seq-gaps, malformed, uncertain, buffer).</summary>
    [GeneratedRegex(@"^\s*(?<shard>\d+)\s+(?<cpus>[\d,-]+)\s+(?<records>\d+)\s+(?<lost>\d+)\s+(?<overflows>\d+)\s+(?<restarts>\d+)\s+(?<duplicates>\d+)\s+(?<gaps>\d+)\s+(?<malformed>\d+)\s+(?<uncertain>\d+)\s+(?<buffer>\d+)\s*$", RegexOptions.Multiline)]
    internal static partial Regex ShardSummaryRow();

    [GeneratedRegex(@"registered, receive buffer (?<bytes>\d+) bytes granted")]
    private static partial Regex RegisteredLine();
}
