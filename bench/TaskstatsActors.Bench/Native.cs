using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace TaskstatsActors.Bench;

/// <summary>The repository the harness runs from, and the programs it builds and runs.</summary>
internal sealed class Repository
{
    private Repository(string root) => Root = root;

    /// <summary>The directory holding <c>TaskstatsActors.sln</c>.</summary>
    public string Root { get; }

    public string LoadgenSource => Path.Combine(Root, "tools", "loadgen", "loadgen.c");
    public string ListenerSource => Path.Combine(Root, "bench", "reference", "listener.c");
    public string RunstatSource => Path.Combine(Root, "bench", "reference", "runstat.c");
    public string DefaultConfig => Path.Combine(Root, "config", "taskstats.conf");

    /// <summary>The build configuration of this harness (the collector of the same configuration is used).</summary>
    public static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    /// <summary><c>src/TaskstatsActors.Cli/bin/CONFIGURATION/net10.0/taskstats-actors</c>.</summary>
    public string Collector(string configuration) =>
        Path.Combine(Root, "src", "TaskstatsActors.Cli", "bin", configuration, "net10.0", "taskstats-actors");

    /// <summary>
    /// <c>build/native-bench/taskstats-actors</c>: the native (AOT) build that <c>./taskstats-actors</c> makes, with the
    /// harness's counting sink compiled in, as a native build cannot load it from its assembly at run time.
    /// </summary>
    public string NativeCollector => Path.Combine(Root, "build", "native-bench", "taskstats-actors");

    /// <summary>
    /// Whether <paramref name="collector"/> is a native build with the counting sink compiled in (<c>-p:WithBenchSinks=true</c>,
    /// wherever it was published to, e.g. an earlier commit's build given with <c>--before</c>): such an executable
    /// carries the sink assembly's name. A JIT build's launcher does not; it loads the sink from its assembly.
    /// </summary>
    public static bool HasBenchSinks(string collector) =>
        BenchSinksCompiledIn.GetOrAdd(Path.GetFullPath(collector), static path =>
            File.Exists(path) && File.ReadAllBytes(path).AsSpan().IndexOf("TaskstatsActors.Bench.Sinks"u8) >= 0);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> BenchSinksCompiledIn = new();

    /// <summary>Publishes <see cref="NativeCollector"/> (a minute or two; less when little changed).</summary>
    public string BuildNativeCollector(TextWriter output)
    {
        output.WriteLine("bench: publishing the native collector with the counting sink into build/native-bench ...");
        var result = Exec.Run("dotnet",
        [
            "publish", Path.Combine(Root, "src", "TaskstatsActors.Cli"), "-c", "Release", "--use-current-runtime",
            "-p:WithBenchSinks=true", "-o", Path.GetDirectoryName(NativeCollector)!, "--nologo", "-nodeReuse:false",
        ]);
        if (result.ExitCode != 0)
        {
            var errors = result.Out.Split('\n').Where(line => line.Contains(": error ", StringComparison.Ordinal)).Take(10);
            throw new BenchException($"the native build failed (dotnet publish exit code {result.ExitCode}): {string.Join(" | ", errors)}");
        }
        return NativeCollector;
    }

    /// <summary>What kind of build an executable path is, for the report: "Release, native (AOT)", "Release", "Debug" or "unknown".</summary>
    public static string BuildOf(string collector) =>
        HasBenchSinks(collector) ? "Release, native (AOT), with the harness's counting sink compiled in"
        : collector.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release, JIT"
        : collector.Contains("/bin/Debug/", StringComparison.Ordinal) ? "Debug"
        : "unknown";

    /// <summary>Walks up from this assembly's directory, then from the working directory, to the solution.</summary>
    public static Repository Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "TaskstatsActors.sln")))
                    return new Repository(directory.FullName);
            }
        }
        throw new BenchException($"cannot find TaskstatsActors.sln above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}");
    }
}

/// <summary>A failure that ends the benchmark with a one-line message.</summary>
internal sealed class BenchException(string message) : Exception(message);

/// <summary>The C programs, compiled with the machine's <c>cc -O2</c> into the run's work directory.</summary>
internal sealed record NativeTools(string Loadgen, string Listener, string Runstat, string CompilerVersion)
{
    public static NativeTools Build(Repository repository, string directory)
    {
        Directory.CreateDirectory(directory);
        var loadgen = Compile(repository.LoadgenSource, Path.Combine(directory, "loadgen"), "-pthread");
        var listener = Compile(repository.ListenerSource, Path.Combine(directory, "listener"));
        var runstat = Compile(repository.RunstatSource, Path.Combine(directory, "runstat"));
        var version = Exec.Run("cc", ["--version"]).Out.Split('\n')[0].Trim();
        return new NativeTools(loadgen, listener, runstat, version);
    }

    private static string Compile(string source, string output, params string[] extra)
    {
        if (!File.Exists(source))
            throw new BenchException($"missing source {source}");
        var arguments = new List<string> { "-O2" };
        arguments.AddRange(extra);
        arguments.AddRange(["-o", output, source]);
        var result = Exec.Run("cc", arguments);
        if (result.ExitCode != 0)
            throw new BenchException($"cc {string.Join(' ', arguments)} failed: {result.Error.Trim()}");
        return output;
    }
}

/// <summary>Small process helpers.</summary>
internal static class Exec
{
    public const int SigTerm = 15;

    public sealed record Result(int ExitCode, string Out, string Error);

    /// <summary>Runs a program to its end and captures its output.</summary>
    public static Result Run(string program, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new BenchException($"cannot start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return new Result(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>A shell-like rendering of a command line, for the report.</summary>
    public static string CommandLine(string program, IEnumerable<string> arguments) =>
        string.Join(' ', new[] { program }.Concat(arguments).Select(Quote));

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsLetterOrDigit(c) || "-_./=:,+@".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int KillNative(int pid, int signal);

    [DllImport("libc", EntryPoint = "sync")]
    private static extern void SyncNative();

    /// <summary>Sends a signal; false when the process is gone.</summary>
    public static bool Signal(int pid, int signal) => KillNative(pid, signal) == 0;

    /// <summary>Flushes dirty pages, so that one run's file writes do not slow the next run's storm.</summary>
    public static void Sync() => SyncNative();
}

/// <summary>A child process whose output lines are watched as they come.</summary>
internal sealed class WatchedProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _error = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Done)> _waits = [];
    private readonly TaskCompletionSource _outClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();

    public WatchedProcess(string program, IEnumerable<string> arguments, string workingDirectory)
    {
        CommandLine = Exec.CommandLine(program, arguments);
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, _out, _outClosed);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, _error, _errorClosed);
        if (!_process.Start())
            throw new BenchException($"cannot start {program}");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string CommandLine { get; }

    public int Id => _process.Id;

    public string Out
    {
        get { lock (_gate) return _out.ToString(); }
    }

    public string Error
    {
        get { lock (_gate) return _error.ToString(); }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Completes with the first line (on stdout or stderr, already seen or to come) that matches.</summary>
    public Task<string> WaitForLine(Func<string, bool> match)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            foreach (var line in (_out + "\n" + _error).Split('\n'))
            {
                if (match(line))
                {
                    done.TrySetResult(line);
                    return done.Task;
                }
            }
            _waits.Add((match, done));
        }
        return done.Task;
    }

    /// <summary>Counts the lines seen so far that match.</summary>
    public int CountLines(Func<string, bool> match)
    {
        lock (_gate)
            return (_out + "\n" + _error).Split('\n').Count(match);
    }

    public void Signal(int signal) => Exec.Signal(_process.Id, signal);

    /// <summary>Waits for the exit and for the end of its output; kills it after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            await Task.WhenAll(_outClosed.Task, _errorClosed.Task).WaitAsync(TimeSpan.FromSeconds(10));
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
            return false;
        }
    }

    private void OnLine(string? line, StringBuilder into, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }
        lock (_gate)
        {
            into.Append(line).Append('\n');
            for (var i = _waits.Count - 1; i >= 0; i--)
            {
                if (_waits[i].Match(line))
                {
                    _waits[i].Done.TrySetResult(line);
                    _waits.RemoveAt(i);
                }
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}

/// <summary>Readings from <c>/proc/PID</c>.</summary>
internal static class ProcFs
{
    private static readonly double TicksPerSecond = 100.0; // USER_HZ; sysconf(_SC_CLK_TCK) is 100 on Linux

    /// <summary>utime + stime of the process (fields 14 and 15 of <c>/proc/PID/stat</c>) in seconds; null if gone.</summary>
    public static double? CpuSeconds(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state): utime (14) is fields[11], stime (15) fields[12].
            return (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>VmRSS and VmHWM of the process in KiB; null if gone (or a zombie).</summary>
    public static (long Rss, long Hwm)? Memory(int pid)
    {
        try
        {
            long rss = -1, hwm = -1;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    rss = KiB(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    hwm = KiB(line);
            }
            return rss < 0 || hwm < 0 ? null : (rss, hwm);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    private static long KiB(string line) =>
        long.Parse(line[(line.IndexOf(':') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);

    public static string ReadTrimmed(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }
}
