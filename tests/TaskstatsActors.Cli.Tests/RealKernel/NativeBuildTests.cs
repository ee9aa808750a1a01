using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.TestSupport;
using Xunit.Abstractions;

namespace TaskstatsActors.Cli.Tests.RealKernel;

/// <summary>
/// The Native AOT executable that <c>./taskstats-actors</c> publishes into <c>build/native</c>, run as a child process:
/// trimming and the absence of a JIT break things only at run time, so these tests run the real thing.
/// </summary>
[Collection(RealKernelCollection.Name)]
public sealed partial class NativeBuildTests(ITestOutputHelper output) : IDisposable
{
    private const int Exits = 40;
    private const int SigInt = 2;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _directory = Directory.CreateTempSubdirectory("taskstats-native-").FullName;
    private readonly List<Process> _processes = [];

    [SkippableFact]
    public async Task Native_collect_records_every_exit_of_its_own_command_and_report_reads_them()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        var program = await NativeExecutable.PathAsync();
        var history = Path.Combine(_directory, "history", "exits.db");
        // Port 0: the sink takes a free loopback port and logs it, so no other test or collector can take it first.
        // 1000 commands with a label at once: the test's command gets its own taskstats_exits_total series however
        // many other commands exit on the host meanwhile.
        var config = WriteConfig("collect.conf",
            $"taskstats.sinks.history.path = {Hocon(history)}",
            "taskstats.sinks.prometheus.listen = \"127.0.0.1:0\"",
            "taskstats.sinks.prometheus.top-commands = 1000",
            "taskstats.sinks.prometheus.max-commands = 1000");
        // Pinned to one CPU, the exits reach exactly the shard that holds it: once that shard has registered,
        // every exit of the load is heard, whatever the shard layout.
        var cpu = OnlineCpus.System.ReadOnline().Max;
        var comm = LoadGenerator.UniqueComm("tsnative");

        // The test stops it as Ctrl-C would (SIGINT). A process inherits an ignored SIGINT, and a shell ignores it in
        // the jobs it starts in the background (`.ci/run &`): env gives the collector SIGINT's default back, as a
        // terminal would, which exec keeps (env execs it, so its pid is the collector's).
        var collector = Start("env", "--default-signal=INT", program, "collect", "--config", config);
        var port = await collector.WaitForAsync(text => PrometheusAddress().Match(text) is { Success: true } m
            ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
            : (int?)null, "the Prometheus sink to say where it serves /metrics");
        await collector.WaitForAsync(text => RegisteredShard().Matches(text).Any(m => CpuMask.Parse(m.Groups[1].Value).Contains(cpu))
            ? true
            : (bool?)null, $"the shard of CPU {cpu} to register");

        var load = await LoadGenerator.RunAsync(new LoadOptions { Mode = LoadMode.Fork, Count = Exits, Comm = comm, Cpu = cpu })
            .WaitAsync(Patience);
        Assert.Equal(Exits, load.Exits);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var metrics = "";
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
            if (metrics.Contains($"taskstats_exits_total{{comm=\"{comm}\"}} {Exits}\n", StringComparison.Ordinal))
                break;
            Assert.True(deadline.Elapsed < Patience,
                $"/metrics never counted {Exits} exits of {comm}; last scrape:\n{metrics}\ncollector output:\n{collector.Output}");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
        var records = RecordsCounter().Matches(metrics).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.True(records >= Exits, $"taskstats_records_total adds up to {records}, below the {Exits} exits of {comm}:\n{metrics}");

        Assert.Equal(0, Kill(collector.Process.Id, SigInt));
        var exitCode = await collector.WaitForExitAsync(Patience);
        output.WriteLine(collector.Output);
        Assert.True(exitCode == ExitCode.Success, $"collect exited with {exitCode} after SIGINT:\n{collector.Output}");
        Assert.Contains("collected for", collector.Stdout);
        Assert.DoesNotContain("   at ", collector.Output);

        var report = await RunAsync(program, "report", "--db", history, "--since", "1h", "--by", "comm", "--top", "1000", "--json");
        Assert.True(report.ExitCode == ExitCode.Success, report.ToString());
        using var json = JsonDocument.Parse(report.Stdout);
        var rows = json.RootElement.GetProperty("rows").EnumerateArray()
            .Where(row => row.GetProperty("comm").GetString() == comm)
            .ToList();
        var row = Assert.Single(rows);
        Assert.Equal(Exits, row.GetProperty("exits").GetInt64());
    }

    [SkippableFact]
    public async Task Native_build_refuses_a_sink_assembly_path_with_a_clear_message()
    {
        // The sinks are loaded and checked with the config, before collect needs the kernel: no real-kernel skip.
        Skip.IfNot(OperatingSystem.IsLinux(), "the native build is made for Linux");
        var program = await NativeExecutable.PathAsync();
        // A real sink assembly when the sample is built, so that nothing but the native build can be the reason to refuse.
        var sample = new[] { "Debug", "Release" }
            .Select(configuration => RepositoryFiles.PathOf("samples", "TaskstatsActors.SampleSink", "bin", configuration, "net10.0", "TaskstatsActors.SampleSink.dll"))
            .FirstOrDefault(File.Exists);
        var (assembly, type) = sample is not null
            ? (sample, "TaskstatsActors.SampleSink.CommandCountSink, TaskstatsActors.SampleSink")
            : (typeof(NativeBuildTests).Assembly.Location, $"{typeof(NativeBuildTests).FullName}, {typeof(NativeBuildTests).Assembly.GetName().Name}");
        Directory.CreateDirectory(Path.Combine(_directory, "plugins"));
        var copy = Path.Combine("plugins", Path.GetFileName(assembly));
        File.Copy(assembly, Path.Combine(_directory, copy));
        var config = WriteConfig("plugin.conf",
            $"taskstats.sinks.history.path = {Hocon(Path.Combine(_directory, "history", "exits.db"))}",
            "taskstats.sinks.prometheus.enabled = off",
            "taskstats.sinks.mine {",
            $"  class = {Hocon(type)}",
            $"  assembly-path = {Hocon(copy)}",
            "}");

        var result = await RunAsync(program, "collect", "--config", config, "--duration", "5s");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == ExitCode.BadConfig, result.ToString());
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("native", line);
        Assert.Contains("taskstats.sinks.mine", line);
        Assert.DoesNotContain("   at ", result.Stderr + result.Stdout);
    }

    [SkippableFact]
    public async Task Native_top_batch_prints_a_table()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        var program = await NativeExecutable.PathAsync();

        var result = await RunAsync(program, "top", "--batch", "--iterations", "1", "--interval", "500ms");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == ExitCode.Success, result.ToString());
        var lines = result.Stdout.Split('\n');
        var processes = lines.Select(line => TopTitle().Match(line)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.True(processes.Count > 0 && processes[^1] > 0, $"no title line with a process count above 0:\n{result}");
        Assert.Contains(lines, line => line.TrimStart().StartsWith("TGID COMMAND", StringComparison.Ordinal));
        Assert.Contains(lines, line => TopRow().IsMatch(line));
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [SkippableFact]
    public async Task Native_check_says_collection_can_work()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        var program = await NativeExecutable.PathAsync();

        var result = await RunAsync(program, "check");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == ExitCode.Success, result.ToString());
        Assert.Contains("taskstats family  TASKSTATS", result.Stdout);
        Assert.Contains("result: collection can work on this host", result.Stdout);
        Assert.DoesNotContain(result.Stdout.Split('\n'), line => line.StartsWith('!'));
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(TimeSpan.FromSeconds(10));
                }
            }
            catch (InvalidOperationException)
            {
                // Never started or already gone.
            }
            process.Dispose();
        }
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    /// <summary>A config in the temp directory: the repository's default config, then <paramref name="lines"/> over it.</summary>
    private string WriteConfig(string name, params string[] lines)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllLines(path, [$"include {Hocon(RepositoryFiles.PathOf("config", "taskstats.conf"))}", .. lines]);
        return path;
    }

    private static string Hocon(string value) => JsonSerializer.Serialize(value);

    private RunningProcess Start(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        var process = new Process { StartInfo = info };
        var running = new RunningProcess(process);
        _processes.Add(process);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    private async Task<CommandResult> RunAsync(string program, params string[] arguments)
    {
        var running = Start(program, arguments);
        var exitCode = await running.WaitForExitAsync(Patience);
        return new CommandResult(string.Join(' ', arguments), exitCode, running.Stdout, running.Stderr);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"serving Prometheus metrics at http://127\.0\.0\.1:(\d+)/metrics")]
    private static partial Regex PrometheusAddress();

    [GeneratedRegex(@"shard \d+ \(cpus ([0-9,\-]+)\): registered, receive buffer")]
    private static partial Regex RegisteredShard();

    [GeneratedRegex(@"^taskstats_records_total\{shard=""\d+""\} (\d+)$", RegexOptions.Multiline)]
    private static partial Regex RecordsCounter();

    [GeneratedRegex(@"^taskstats-actors top - \d\d:\d\d:\d\d  interval 0\.5s  (\d+) processes")]
    private static partial Regex TopTitle();

    [GeneratedRegex(@"^\s*\d+ \S.*\s\d+\.\d\d\s")]
    private static partial Regex TopRow();

    private sealed record CommandResult(string Command, int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"taskstats-actors {Command}: exit code {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    /// <summary>A child process whose stdout and stderr are gathered as they come.</summary>
    private sealed class RunningProcess
    {
        private readonly StringBuilder _stdout = new();
        private readonly StringBuilder _stderr = new();
        private readonly StringBuilder _both = new();

        public RunningProcess(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
            process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        }

        public Process Process { get; }

        public string Stdout { get { lock (_both) return _stdout.ToString(); } }

        public string Stderr { get { lock (_both) return _stderr.ToString(); } }

        /// <summary>Stdout and stderr interleaved as they came.</summary>
        public string Output { get { lock (_both) return _both.ToString(); } }

        private void Append(StringBuilder stream, string? line)
        {
            if (line is null)
                return;
            lock (_both)
            {
                stream.Append(line).Append('\n');
                _both.Append(line).Append('\n');
            }
        }

        /// <summary>Polls the output until <paramref name="probe"/> finds what it looks for; fails at the deadline or if the process ends first.</summary>
        public async Task<T> WaitForAsync<T>(Func<string, T?> probe, string what) where T : struct
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var exited = Process.HasExited;
                if (probe(Output) is { } found)
                    return found;
                if (exited)
                    Assert.Fail($"the process ended (exit code {Process.ExitCode}) before {what}:\n{Output}");
                Assert.True(clock.Elapsed < Patience, $"waited {Patience.TotalSeconds:0} s for {what} in vain:\n{Output}");
                await Task.Delay(TimeSpan.FromMilliseconds(50));
            }
        }

        /// <summary>Waits for the exit (and the end of its output); kills the process tree and fails at the deadline.</summary>
        public async Task<int> WaitForExitAsync(TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await Process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                Process.Kill(entireProcessTree: true);
                Assert.Fail($"{Process.StartInfo.FileName} {string.Join(' ', Process.StartInfo.ArgumentList)} did not end within {timeout.TotalSeconds:0} s:\n{Output}");
            }
            return Process.ExitCode;
        }
    }

    /// <summary>
    /// <c>build/native/taskstats-actors</c>, brought up to date once per test run by the repository's wrapper script
    /// (a native publish when the sources changed: about 80 s; nothing otherwise). A failed build fails every test that
    /// needs it, with the wrapper's stderr, and is not tried again.
    /// </summary>
    private static class NativeExecutable
    {
        private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);
        private static readonly Lazy<Task<string>> Build = new(BuildAsync, LazyThreadSafetyMode.ExecutionAndPublication);

        public static Task<string> PathAsync() => Build.Value;

        private static async Task<string> BuildAsync()
        {
            var wrapper = RepositoryFiles.PathOf("taskstats-actors");
            var program = RepositoryFiles.PathOf("build", "native", "taskstats-actors");
            var info = new ProcessStartInfo("bash")
            {
                WorkingDirectory = RepositoryFiles.Root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(wrapper);
            info.ArgumentList.Add("--version");
            // dotnet test runs this process under MSBuild's environment; the wrapper's own dotnet publish must not inherit it.
            foreach (var name in info.Environment.Keys.Where(name => name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
                info.Environment.Remove(name);
            // Nor leave an MSBuild node behind that outlives the test run.
            info.Environment["MSBUILDDISABLENODEREUSE"] = "1";

            using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start bash {wrapper}");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(BuildTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                Assert.Fail($"{wrapper} --version did not finish within {BuildTimeout.TotalMinutes:0} min:\n{await stderr}");
            }
            var version = (await stdout).Trim();
            var errors = (await stderr).Trim();
            Assert.True(process.ExitCode == 0, $"{wrapper} --version (the native build) failed with exit code {process.ExitCode}:\n{errors}\n{version}");
            Assert.True(File.Exists(program), $"{wrapper} --version succeeded but left no {program}:\n{errors}");
            Assert.False(string.IsNullOrEmpty(version), $"{program} --version printed nothing:\n{errors}");
            return program;
        }
    }
}
