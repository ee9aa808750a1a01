using System.Globalization;
using System.IO.Compression;
using Xunit;

namespace TaskstatsActors.TestSupport;

/// <summary>
/// Preconditions of tests that talk to the running kernel's taskstats interface. Such tests
/// call <see cref="SkipUnlessAvailable"/> first (in a <c>[SkippableFact]</c>), so that they
/// report why they did not run instead of failing where taskstats cannot work.
/// </summary>
public static class RealKernel
{
    private const int CapNetAdmin = 12;

    // include/linux/proc_ns.h fixes the inode numbers of the initial namespaces.
    private const string InitialPidNamespace = "pid:[4026531836]";
    private const string InitialUserNamespace = "user:[4026531837]";

    /// <summary>Skips the calling test, with the reason, unless taskstats listeners can work here.</summary>
    public static void SkipUnlessAvailable()
    {
        var reason = UnavailableReason();
        Skip.If(reason is not null, $"real-kernel test skipped: {reason}");
    }

    /// <summary>
    /// Why taskstats listeners cannot work in this process, or null when they presumably can.
    /// A heuristic: it does not ask the kernel for the TASKSTATS family.
    /// </summary>
    public static string? UnavailableReason()
    {
        if (!OperatingSystem.IsLinux())
            return $"taskstats is a Linux interface and this is {Environment.OSVersion}";
        if (!File.Exists("/proc/self/stat"))
            return "/proc is not mounted";
        if (!HasCapNetAdmin())
            return "registering a taskstats listener needs CAP_NET_ADMIN (the kernel marks the command GENL_ADMIN_PERM); run as root";
        if (NamespaceProblem() is { } namespaceProblem)
            return namespaceProblem;
        return TaskstatsMissingReason();
    }

    /// <summary>True when the effective capabilities of this process (<c>CapEff</c> in <c>/proc/self/status</c>) hold CAP_NET_ADMIN.</summary>
    public static bool HasCapNetAdmin()
    {
        try
        {
            return HasCapability(File.ReadAllText("/proc/self/status"), CapNetAdmin);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>True when the <c>CapEff</c> line of a <c>/proc/&lt;pid&gt;/status</c> text has bit <paramref name="capability"/>.</summary>
    public static bool HasCapability(string status, int capability)
    {
        ArgumentNullException.ThrowIfNull(status);
        foreach (var line in status.Split('\n'))
        {
            if (!line.StartsWith("CapEff:", StringComparison.Ordinal))
                continue;
            return ulong.TryParse(line["CapEff:".Length..].Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var mask)
                && (mask & (1UL << capability)) != 0;
        }
        return false;
    }

    // The kernel only registers listeners from the initial user and pid namespaces (it answers
    // EINVAL elsewhere), which rules out most containers even for root.
    private static string? NamespaceProblem()
    {
        var pid = ReadLink("/proc/self/ns/pid");
        var user = ReadLink("/proc/self/ns/user");
        if (pid is not null && pid != InitialPidNamespace)
            return $"this process is in pid namespace {pid}, not the initial one; the kernel registers taskstats listeners only from the initial pid namespace";
        if (user is not null && user != InitialUserNamespace)
            return $"this process is in user namespace {user}, not the initial one; the kernel registers taskstats listeners only from the initial user namespace";
        return null;
    }

    // Looks for CONFIG_TASKSTATS in the kernel's configuration where it is published, else for
    // features that depend on it: task_delayacct (TASK_DELAY_ACCT) and /proc/<pid>/io
    // (TASK_IO_ACCOUNTING through TASK_XACCT) exist only in kernels built with TASKSTATS.
    private static string? TaskstatsMissingReason()
    {
        var release = ReadTrimmed("/proc/sys/kernel/osrelease");
        var config = ReadKernelConfig(release, out var configPath);
        if (config is not null)
        {
            return config.Contains("\nCONFIG_TASKSTATS=y", StringComparison.Ordinal)
                ? null
                : $"the kernel was built without CONFIG_TASKSTATS (per {configPath})";
        }
        if (File.Exists("/proc/sys/kernel/task_delayacct") || File.Exists("/proc/self/io"))
            return null;
        return "found no sign of CONFIG_TASKSTATS: no /proc/config.gz or /boot/config-<release>, no task_delayacct sysctl, no /proc/self/io";
    }

    private static string? ReadKernelConfig(string? release, out string? path)
    {
        path = "/proc/config.gz";
        try
        {
            if (File.Exists(path))
            {
                using var file = File.OpenRead(path);
                using var gzip = new GZipStream(file, CompressionMode.Decompress);
                using var reader = new StreamReader(gzip);
                return "\n" + reader.ReadToEnd();
            }
            path = release is null ? null : $"/boot/config-{release}";
            if (path is not null && File.Exists(path))
                return "\n" + File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // An unreadable configuration is no evidence either way; fall back to the heuristics.
        }
        path = null;
        return null;
    }

    private static string? ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
