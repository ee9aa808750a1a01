using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace TaskstatsActors.TestSupport;

/// <summary>How the load generator makes its exiting tasks.</summary>
public enum LoadMode
{
    /// <summary><c>fork</c> + <c>_exit</c>: real processes, slow where page tables are expensive to copy.</summary>
    Fork,

    /// <summary><c>vfork</c> + <c>_exit</c>: processes without the page-table copy, the fastest process exits.</summary>
    Vfork,

    /// <summary><c>pthread_create</c> + join: exits of threads of a multi-threaded worker.</summary>
    Thread,
}

/// <summary>What the load generator should do; see <c>tools/loadgen/loadgen.c</c> for the exact meaning of each option.</summary>
public sealed record LoadOptions
{
    /// <summary>How tasks are made.</summary>
    public LoadMode Mode { get; init; } = LoadMode.Fork;

    /// <summary>Worker processes making exits in parallel.</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Total exits over all workers; give this, <see cref="Duration"/>, or both (whichever ends first).</summary>
    public long? Count { get; init; }

    /// <summary>How long to keep making exits.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Target exits per second over all workers, paced; 0 for as fast as possible.</summary>
    public double Rate { get; init; }

    /// <summary>
    /// The command name of exactly the exiting tasks counted in <see cref="LoadResult.Exits"/>
    /// (at most 15 characters); null leaves them the load generator's own name. Use
    /// <see cref="LoadGenerator.UniqueComm"/> to count a run's records by name.
    /// </summary>
    public string? Comm { get; init; }

    /// <summary>Pins workers and their tasks to this CPU; null for no pinning.</summary>
    public int? Cpu { get; init; }

    /// <summary>Exit status of the children (fork and vfork only).</summary>
    public int? ExitCode { get; init; }

    /// <summary>Busy work of each child or thread before it exits, in microseconds (not with vfork).</summary>
    public int WorkMicroseconds { get; init; }
}

/// <summary>What a load generator run made.</summary>
/// <param name="Exits">Tasks created and reaped (or joined): one taskstats exit record each.</param>
/// <param name="Seconds">Wall time of the run.</param>
/// <param name="Rate">Exits per second.</param>
public sealed record LoadResult(long Exits, double Seconds, double Rate);

/// <summary>
/// Runs <c>tools/loadgen/loadgen.c</c>, compiled with the machine's <c>cc</c> on first use, to
/// make task exits at the highest rate the machine allows or at a paced rate.
/// </summary>
public static class LoadGenerator
{
    private const string SourceName = "loadgen.c";
    private const int CommMaxLength = 15;
    private const int CommSuffixLength = 6;
    private const int ExitCodeStoppedBySignal = 3;
    private const int SigTerm = 15;

    private static readonly Lazy<string> Binary = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly ConcurrentDictionary<string, byte> IssuedComms = new();

    /// <summary>The compiled load generator; builds it on first use.</summary>
    /// <exception cref="InvalidOperationException">No <c>cc</c>, the source is missing, or it does not compile.</exception>
    public static string BinaryPath => Binary.Value;

    /// <summary>
    /// A command name of at most 15 characters, <paramref name="prefix"/> (cut to 9 characters)
    /// followed by 6 random base-36 characters, never handed out twice in this process, so that
    /// a test can pick out its own records among everything else exiting on the machine.
    /// </summary>
    public static string UniqueComm(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        var head = prefix.Length > CommMaxLength - CommSuffixLength ? prefix[..(CommMaxLength - CommSuffixLength)] : prefix;
        while (true)
        {
            var name = new StringBuilder(head);
            for (var i = 0; i < CommSuffixLength; i++)
                name.Append(digits[RandomNumberGenerator.GetInt32(digits.Length)]);
            var comm = name.ToString();
            if (IssuedComms.TryAdd(comm, 0))
                return comm;
        }
    }

    /// <summary>The command-line arguments that ask the load generator for <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">The options are inconsistent (neither count nor duration, a comm too long, ...).</exception>
    public static IReadOnlyList<string> Arguments(LoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Count is null && options.Duration is null)
            throw new ArgumentException("give Count, Duration or both", nameof(options));
        if (options.Comm is { } comm && (comm.Length is 0 or > CommMaxLength || Encoding.UTF8.GetByteCount(comm) > CommMaxLength))
            throw new ArgumentException($"Comm must be 1 to {CommMaxLength} bytes, not \"{comm}\"", nameof(options));

        var arguments = new List<string>
        {
            "--mode", options.Mode.ToString().ToLowerInvariant(),
            "--workers", Invariant(options.Workers),
        };
        if (options.Count is { } count)
            arguments.AddRange(["--count", Invariant(count)]);
        if (options.Duration is { } duration)
            arguments.AddRange(["--duration", Invariant(duration.TotalSeconds)]);
        if (options.Rate > 0)
            arguments.AddRange(["--rate", Invariant(options.Rate)]);
        if (options.Comm is not null)
            arguments.AddRange(["--comm", options.Comm]);
        if (options.Cpu is { } cpu)
            arguments.AddRange(["--cpu", Invariant(cpu)]);
        if (options.ExitCode is { } exitCode)
            arguments.AddRange(["--exit-code", Invariant(exitCode)]);
        if (options.WorkMicroseconds > 0)
            arguments.AddRange(["--work-us", Invariant(options.WorkMicroseconds)]);
        return arguments;
    }

    /// <summary>
    /// Makes the exits <paramref name="options"/> ask for and reports how many were made.
    /// Cancelling stops the generator (SIGTERM, so that its tasks keep their names right) and
    /// throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The generator cannot be built, or failed; the message holds its stderr.</exception>
    public static async Task<LoadResult> RunAsync(LoadOptions options, CancellationToken cancellationToken = default)
    {
        var arguments = Arguments(options);
        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"cannot start {start.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await StopAsync(process).ConfigureAwait(false);
            throw;
        }
        var output = await stdout.ConfigureAwait(false);
        var errors = await stderr.ConfigureAwait(false);
        var commandLine = $"loadgen {string.Join(' ', arguments)}";
        if (process.ExitCode != 0)
        {
            var why = process.ExitCode == ExitCodeStoppedBySignal ? "was stopped by a signal" : $"failed with exit code {process.ExitCode}";
            throw new InvalidOperationException($"{commandLine} {why}: {errors.Trim()} {output.Trim()}".TrimEnd());
        }
        return Parse(output) ?? throw new InvalidOperationException($"{commandLine} printed no summary line: \"{output.Trim()}\"");
    }

    /// <summary>Reads the <c>exits=N seconds=S rate=R</c> line; null when there is none.</summary>
    internal static LoadResult? Parse(string output)
    {
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith("exits=", StringComparison.Ordinal))
                continue;
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(field => field.Split('=', 2))
                .Where(pair => pair.Length == 2)
                .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
            if (fields.TryGetValue("exits", out var exits) && long.TryParse(exits, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                && fields.TryGetValue("seconds", out var seconds) && double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var s)
                && fields.TryGetValue("rate", out var rate) && double.TryParse(rate, NumberStyles.Float, CultureInfo.InvariantCulture, out var r))
                return new LoadResult(n, s, r);
        }
        return null;
    }

    // SIGTERM first: the generator then finishes the exit in progress and its vfork workers take
    // their own names back, so a cancelled run leaves no stray record with the test's comm.
    private static async Task StopAsync(Process process)
    {
        try
        {
            if (process.HasExited)
                return;
            _ = Kill(process.Id, SigTerm);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // The process is already gone.
        }
    }

    private static string Build()
    {
        var source = FindSource();
        var compiler = FindOnPath("cc") ?? throw new InvalidOperationException(
            "cannot build the load generator: no C compiler \"cc\" on PATH (install one, e.g. apt-get install gcc)");

        // Keyed by content, so that test processes running at the same time share a directory
        // only when they build the same program; the rename makes a finished binary appear whole.
        var hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(source)))[..16].ToLowerInvariant();
        var directory = Path.Combine(Path.GetTempPath(), "taskstats-actors-loadgen", hash);
        Directory.CreateDirectory(directory);
        var binary = Path.Combine(directory, "loadgen");
        var temporary = Path.Combine(directory, $"loadgen.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

        var start = new ProcessStartInfo(compiler)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-O2", "-pthread", "-o", temporary, source })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {compiler}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            File.Delete(temporary);
            throw new InvalidOperationException(
                $"cannot build the load generator: {compiler} -O2 -pthread {source} failed with exit code {process.ExitCode}: " +
                $"{stderr.Result.Trim()} {stdout.Result.Trim()}".TrimEnd());
        }
        File.Move(temporary, binary, overwrite: true);
        return binary;
    }

    private static string FindSource()
    {
        // The test project copies the source next to its assemblies; the walk up covers
        // callers that do not, such as a benchmark run from the repository.
        var beside = Path.Combine(AppContext.BaseDirectory, SourceName);
        if (File.Exists(beside))
            return beside;
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tools", "loadgen", SourceName);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException(
            $"cannot build the load generator: {SourceName} is neither in {AppContext.BaseDirectory} nor in tools/loadgen of a parent directory");
    }

    private static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    private static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
