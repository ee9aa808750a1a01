using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli;

/// <summary>Turns a failure into the one line a person reads and the exit status a script checks.</summary>
public static class CliErrors
{
    /// <summary>The message and exit status for <paramref name="error"/>; unknown errors keep their message, never a stack trace.</summary>
    public static (string Message, int ExitCode) Describe(Exception error) => error switch
    {
        CliException e => (e.Message, e.ExitCode),
        Collector.Settings.ConfigException e => ($"bad config: {e.Message}", ExitCode.BadConfig),
        CpuMaskException e => (e.Message, ExitCode.BadCpuMask),
        TaskstatsUnavailableException e => (e.Message, ExitCode.NoTaskstats),
        CgroupStatsUnsupportedException e => (e.Message, ExitCode.CgroupUnsupported),
        NetlinkErrorException { Errno: Errno.EPERM or Errno.EACCES } e => (e.Message, ExitCode.MissingCapability),
        NetlinkErrorException { Errno: Errno.ESRCH } e => (e.Message, ExitCode.NoSuchTask),
        NetlinkErrorException { Errno: Errno.EPROTONOSUPPORT or Errno.EAFNOSUPPORT } e => (e.Message, ExitCode.NoTaskstats),
        NetlinkDecodeException e => ($"malformed message from the kernel: {e.Message}", ExitCode.Failure),
        TimeoutException e => (e.Message, ExitCode.Failure),
        UnauthorizedAccessException e => (e.Message, ExitCode.Failure),
        IOException e => (e.Message, ExitCode.Failure),
        _ => ($"{error.GetType().Name}: {error.Message}", ExitCode.Failure),
    };
}
