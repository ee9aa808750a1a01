namespace TaskstatsActors.Cli;

/// <summary>Process exit statuses, one per kind of failure, so scripts can tell them apart.</summary>
public static class ExitCode
{
    public const int Success = 0;
    /// <summary>Anything not covered below (I/O, unexpected kernel answers).</summary>
    public const int Failure = 1;
    public const int BadArguments = 2;
    /// <summary>The kernel said EPERM: CAP_NET_ADMIN is missing.</summary>
    public const int MissingCapability = 3;
    /// <summary>ESRCH: no such pid or tgid.</summary>
    public const int NoSuchTask = 4;
    /// <summary>The kernel has no TASKSTATS family.</summary>
    public const int NoTaskstats = 5;
    public const int BadCpuMask = 6;
    /// <summary>The kernel cannot give cgroup stats for that directory (e.g. cgroup v2).</summary>
    public const int CgroupUnsupported = 7;
    /// <summary>A bad collector configuration.</summary>
    public const int BadConfig = 8;
}
