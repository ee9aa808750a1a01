using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Benchmarks;

/// <summary>One stage's measured figures (median of the runs).</summary>
public sealed record StageResult(string Stage, string What, double RecordsPerSecond, double MinRecordsPerSecond,
    double MaxRecordsPerSecond, double MessagesPerSecond, double AllocatedBytesPerRecord, int Runs, long RecordsPerRun,
    string? Collections = null, double GcPausePercent = 0, double RecordsPerCpuSecond = 0);

/// <summary>A capacity run: where, what, and the figures per stage.</summary>
public sealed record CapacityReport(string Label, string Date, string Machine, string Cpus, string Runtime, string Corpus,
    string Command, List<StageResult> Stages);

/// <summary>
/// The plain timed run of issue 4's "pipeline capacity without the kernel": replayed exit messages through
/// decode → the real graph → aggregator → a null sink, on one core, plus each stage alone. Prints a
/// markdown table and writes it to bench/results/pipeline.md.
/// </summary>
public static class Capacity
{
    private const string Usage = """
        capacity [--messages N] [--runs R] [--corpus FILE] [--label TEXT] [--out FILE|-] [--save FILE.json]
          --messages  exit messages per run of each stage (default 1000000)
          --runs      timed runs per stage after warm-up (3 s at least, until the JIT is quiet and two runs agree within 5 %); the table shows the median (default 3)
          --corpus    replay datagrams captured with the capture command instead of the built corpus
          --label     names this build in the report and in --save (default: current)
          --out       where the markdown goes besides stdout (default: bench/results/pipeline.md; - for none)
          --save      also write the figures as JSON, for the compare command
          --stages    only these stages, comma-separated (decode,aggregate,json,history,graph,pipeline)
          --stream-buffer  batches the graph's channel holds (the config's stream-buffer; default 64)
        Run it on one core: taskset -c 0 dotnet bench/TaskstatsActors.Benchmarks/bin/Release/net10.0/TaskstatsActors.Benchmarks.dll capacity
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        long messages = 1_000_000;
        var runs = 3;
        var streamBuffer = GraphHarness.DefaultStreamBuffer;
        string? corpusPath = null, save = null, label = "current";
        var only = new HashSet<string>(["decode", "aggregate", "json", "history", "graph", "pipeline"]);
        var output = Path.Combine(RepositoryRoot(), "bench", "results", "pipeline.md");
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--messages": messages = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--corpus": corpusPath = Next(); break;
                case "--label": label = Next(); break;
                case "--out": output = Next(); break;
                case "--save": save = Next(); break;
                case "--stages": only = [.. Next().Split(',')]; break;
                case "--stream-buffer": streamBuffer = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"unknown argument {args[i]}\n{Usage}");
                    return 2;
            }
        }

        if (Environment.ProcessorCount != 1)
            Console.Error.WriteLine($"warning: the runtime sees {Environment.ProcessorCount} CPUs; the target is for one core: run under taskset -c 0");

        var corpus = corpusPath is null ? ExitCorpus.FromFixture() : ExitCorpus.Load(corpusPath);
        var perMessage = (double)corpus.Records / corpus.Messages;
        Console.Error.WriteLine($"corpus: {corpus.Description}; {corpus.Records} records, {perMessage:F3} records per message");

        var stages = new List<StageResult>();
        if (only.Contains("decode"))
            stages.Add(Measure("decode", "TaskstatsMessageDecoder.Decode of each replayed datagram", runs, () => Decode(corpus, messages)));
        if (only.Contains("aggregate"))
            stages.Add(Measure("aggregate", "WindowAccumulator.Add of batches of 256 (window closed every 1024 batches)", runs, () => Aggregate(corpus, messages)));
        if (only.Contains("json"))
            stages.Add(Measure("json", "TaskstatsJson.WriteFields of each record (the jsonl sink's work; not in the pipeline)", runs, () => Json(corpus, messages)));
        if (only.Contains("history"))
            stages.Add(MeasureHistory(corpus, Math.Min(messages, HistoryMessages), runs));
        if (only.Contains("graph") || only.Contains("pipeline"))
        {
            using var harness = new GraphHarness(streamBuffer);
            if (only.Contains("graph"))
            {
                var decoded = corpus.DecodeBatches(GraphHarness.BatchSize);
                stages.Add(Measure("graph", "decoded batches → channel → broadcast → aggregator actor + sink buffer → null sink", runs,
                    () => Timed(() => harness.RunDecodedAsync(decoded, messages).GetAwaiter().GetResult())));
            }
            if (only.Contains("pipeline"))
                stages.Add(Measure("pipeline", "replayed datagrams → decode → channel → broadcast → aggregator actor + sink buffer → null sink", runs,
                    () => Timed(() => harness.DecodeAndRunAsync(corpus, messages).GetAwaiter().GetResult())));
        }

        var report = new CapacityReport(label, DateTimeOffset.Now.ToString("yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture),
            Machine(), Cpus(), $"{RuntimeInformation.FrameworkDescription}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC",
            $"{corpus.Description}; {perMessage:F3} records per message; graph: stream-buffer {streamBuffer}, sink buffer 64, aggregate window 10 s, top 20",
            "taskset -c 0 dotnet bench/TaskstatsActors.Benchmarks/bin/Release/net10.0/TaskstatsActors.Benchmarks.dll capacity" +
            (messages == 1_000_000 ? "" : $" --messages {messages}") + (runs == 3 ? "" : $" --runs {runs}") +
            (streamBuffer == GraphHarness.DefaultStreamBuffer ? "" : $" --stream-buffer {streamBuffer}"),
            stages);
        var markdown = Markdown(report);
        Console.WriteLine(markdown);
        if (output != "-")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
            File.WriteAllText(output, markdown);
            Console.Error.WriteLine($"written to {output}");
        }
        if (save is not null)
            File.WriteAllText(save, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>One run's raw figures.</summary>
    private readonly record struct Run(long Messages, long Records, TimeSpan Elapsed, long AllocatedBytes, GcFigures Gc = default, TimeSpan Cpu = default);

    /// <summary>Collections by generation, and the time the runtime was paused for them, during one run.</summary>
    private readonly record struct GcFigures(int Gen0, int Gen1, int Gen2, TimeSpan Paused)
    {
        public static GcFigures Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());

        public GcFigures Since(GcFigures start) => new(Gen0 - start.Gen0, Gen1 - start.Gen1, Gen2 - start.Gen2, Paused - start.Paused);
    }

    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(30);

    private static StageResult Measure(string stage, string what, int runs, Func<Run> run)
    {
        // Warm up until the JIT has settled: tier-1 code with profile-guided optimisation replaces the first code
        // after some 30 calls and a 100 ms quiet period, and on one core the background compiler competes with
        // the run. At least 3 s, then until a run compiles no method and agrees with the one before within 5 %
        // (at most 30 s).
        Console.Error.Write($"{stage}: warm-up");
        var warming = Stopwatch.StartNew();
        double previous = 0;
        for (var i = 0; ; i++)
        {
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            var r = run();
            var rate = r.Records / r.Elapsed.TotalSeconds;
            var settled = Math.Abs(rate - previous) <= 0.05 * rate && System.Runtime.JitInfo.GetCompiledMethodCount() == compiled;
            previous = rate;
            if (i >= 1 && ((warming.Elapsed >= WarmUp && settled) || warming.Elapsed >= MaxWarmUp))
                break;
        }
        Console.Error.Write($" {warming.Elapsed.TotalSeconds:F1} s");
        var results = new List<Run>();
        for (var i = 0; i < runs; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var gc = GcFigures.Now();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var result = run();
            results.Add(result with { Gc = GcFigures.Now().Since(gc), Cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu });
            Console.Error.Write($", {results[^1].Records / results[^1].Elapsed.TotalSeconds:N0} records/s");
        }
        Console.Error.WriteLine();
        var rates = results.Select(r => r.Records / r.Elapsed.TotalSeconds).Order().ToList();
        var median = results.OrderBy(r => r.Records / r.Elapsed.TotalSeconds).ElementAt(results.Count / 2);
        return new StageResult(stage, what, median.Records / median.Elapsed.TotalSeconds, rates[0], rates[^1],
            median.Messages / median.Elapsed.TotalSeconds, (double)median.AllocatedBytes / median.Records, runs, median.Records,
            $"{median.Gc.Gen0}/{median.Gc.Gen1}/{median.Gc.Gen2}", median.Gc.Paused.TotalMilliseconds / median.Elapsed.TotalMilliseconds * 100,
            results.Select(r => r.Records / r.Cpu.TotalSeconds).Order().ElementAt(results.Count / 2));
    }

    private static Run Timed(Func<GraphHarness.RunResult> run)
    {
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var result = run();
        return new Run(result.Messages, result.Records, result.Elapsed, GC.GetTotalAllocatedBytes(precise: true) - allocated);
    }

    private static Run Decode(ExitCorpus corpus, long messages)
    {
        var datagrams = corpus.Datagrams;
        long decoded = 0, records = 0;
        var next = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        while (decoded < messages)
        {
            foreach (var message in NetlinkMessage.Split(datagrams[next]))
            {
                var m = TaskstatsMessageDecoder.Decode(message);
                records += (m.Task is null ? 0 : 1) + (m.Process is null ? 0 : 1);
                decoded++;
            }
            next = next + 1 == datagrams.Count ? 0 : next + 1;
        }
        clock.Stop();
        return new Run(decoded, records, clock.Elapsed, GC.GetAllocatedBytesForCurrentThread() - allocated);
    }

    // A window closes every 262,144 messages: most records meet a key the window already has, as in a storm,
    // where a window's groupings reach their 50,000-key limit within a second and later records land on
    // an existing key or on "(other)".
    private const int WindowBatches = 1024;

    /// <summary>The corpus decoded into batches of <see cref="GraphHarness.BatchSize"/> messages, as shard 0 publishes them.</summary>
    private static ExitBatch[] ExitBatches(ExitCorpus corpus)
    {
        var shard = new ShardInfo(0, CpuMask.Single(0));
        return corpus.DecodeBatches(GraphHarness.BatchSize).Select(b => new ExitBatch(shard, b, DateTimeOffset.UtcNow)).ToArray();
    }

    private static Run Aggregate(ExitCorpus corpus, long messages)
    {
        var batches = ExitBatches(corpus);
        var now = DateTimeOffset.UtcNow;
        var accumulator = new WindowAccumulator(20, now);
        long added = 0, records = 0;
        var next = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        while (added < messages)
        {
            var batch = batches[next];
            accumulator.Add(batch);
            added += batch.Messages.Count;
            records += batch.RecordCount;
            if (++next % WindowBatches == 0)
            {
                now += TimeSpan.FromSeconds(10);
                accumulator.Close(now);
            }
            if (next == batches.Length)
                next = 0;
        }
        clock.Stop();
        return new Run(added, records, clock.Elapsed, GC.GetAllocatedBytesForCurrentThread() - allocated);
    }

    private static Run Json(ExitCorpus corpus, long messages)
    {
        var batches = corpus.DecodeBatches(GraphHarness.BatchSize);
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        using var writer = new Utf8JsonWriter(buffer);
        long done = 0, records = 0;
        var next = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        while (done < messages)
        {
            foreach (var message in batches[next])
            {
                if (message.Task is { } task)
                    Write(task.Stats);
                if (message.Process is { } process)
                    Write(process.Stats);
                done++;
            }
            next = next + 1 == batches.Count ? 0 : next + 1;
        }
        clock.Stop();
        return new Run(done, records, clock.Elapsed, GC.GetAllocatedBytesForCurrentThread() - allocated);

        void Write(TaskStats stats)
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            writer.WriteStartObject();
            TaskstatsJson.WriteFields(writer, stats);
            writer.WriteEndObject();
            writer.Flush();
            records++;
        }
    }

    // Each run adds some 80 MB to the file (~0.4 KB a record); it grows over the warm-up and timed runs as a collector's would.
    private const long HistoryMessages = 200_000;

    private static StageResult MeasureHistory(ExitCorpus corpus, long messages, int runs)
    {
        var directory = Directory.CreateTempSubdirectory("taskstats-bench-history-");
        try
        {
            using var writer = HistoryWriter.Open(new HistoryOptions { Path = Path.Combine(directory.FullName, "history.db"), MaxAge = TimeSpan.Zero, MaxSize = 0 });
            var batches = ExitBatches(corpus);
            return Measure("history", "HistoryWriter.Write of batches of 256 (the history sink's work: SQLite, WAL, commits every 10,000 records)", runs,
                () => History(writer, batches, messages));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static Run History(HistoryWriter writer, ExitBatch[] batches, long messages)
    {
        long written = 0, records = 0;
        var next = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        while (written < messages)
        {
            var batch = batches[next];
            writer.Write(batch);
            written += batch.Messages.Count;
            records += batch.RecordCount;
            next = next + 1 == batches.Length ? 0 : next + 1;
        }
        writer.Flush();
        clock.Stop();
        return new Run(written, records, clock.Elapsed, GC.GetAllocatedBytesForCurrentThread() - allocated);
    }

    public static string Markdown(CapacityReport report)
    {
        var text = new StringBuilder();
        text.AppendLine($"### Pipeline capacity without the kernel, one core ({report.Label})");
        text.AppendLine();
        text.AppendLine($"- date: {report.Date}");
        text.AppendLine($"- machine: {report.Machine}");
        text.AppendLine($"- CPUs: {report.Cpus}");
        text.AppendLine($"- runtime: {report.Runtime}");
        text.AppendLine($"- corpus: {report.Corpus}");
        text.AppendLine($"- command: `{report.Command}`");
        text.AppendLine();
        text.AppendLine("| stage | what | records/s (median) | min – max | messages/s | ns/record | records per CPU-second | allocated B/record | GCs gen0/1/2 | GC pause |");
        text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var s in report.Stages)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {s.Stage} | {s.What} | {s.RecordsPerSecond:N0} | {s.MinRecordsPerSecond:N0} – {s.MaxRecordsPerSecond:N0} | {s.MessagesPerSecond:N0} | {1e9 / s.RecordsPerSecond:N0} | {s.RecordsPerCpuSecond:N0} | {s.AllocatedBytesPerRecord:N0} | {s.Collections} | {s.GcPausePercent:F0} % |"));
        text.AppendLine();
        var perRun = string.Join(", ", report.Stages.GroupBy(s => s.RecordsPerRun)
            .Select(g => report.Stages.Count == g.Count() ? $"{g.Key:N0}" : $"{g.Key:N0} ({string.Join(", ", g.Select(s => s.Stage))})"));
        text.AppendLine($"Median of {report.Stages[0].Runs} timed runs of {perRun} records each, after warm-up runs (at least 3 s, until a run compiles no method and agrees with the one before within 5 %). " +
                        "A record is a task or a process record; allocation is the whole process's (GC.GetTotalAllocatedBytes) for graph and pipeline, the measuring thread's otherwise; " +
                        "GCs are the collections during the median run, GC pause the share of its time the runtime was paused for them. " +
                        "Records per CPU-second divide by the process's CPU time instead of the wall clock (median of the runs): on a busy machine it is the steadier figure.");
        return text.ToString();
    }

    private static string Machine()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        return $"{model}, Linux {kernel}";
    }

    private static string Cpus()
    {
        var online = File.ReadAllText("/sys/devices/system/cpu/online").Trim();
        var allowed = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        return $"online {online}; this process may run on {allowed}; the runtime sees {Environment.ProcessorCount}";
    }

    /// <summary>The directory holding TaskstatsActors.sln, looking up from the working directory and from the binary.</summary>
    internal static string RepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "TaskstatsActors.sln")))
                    return dir.FullName;
        return Environment.CurrentDirectory;
    }
}
