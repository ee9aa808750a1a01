namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>The kernel has no <c>TASKSTATS</c> generic netlink family (built without <c>CONFIG_TASKSTATS</c>).</summary>
public sealed class TaskstatsUnavailableException : Exception
{
    public TaskstatsUnavailableException()
        : base("the kernel has no TASKSTATS generic netlink family: it was built without CONFIG_TASKSTATS, or this is not the initial network namespace") { }
}

/// <summary>The kernel refused <c>CGROUPSTATS_CMD_GET</c> for a directory, with the reason a person can act on.</summary>
public sealed class CgroupStatsUnsupportedException : Exception
{
    public CgroupStatsUnsupportedException(string message) : base(message) { }
}
