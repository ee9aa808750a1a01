namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>Commands and attribute numbers of the <c>TASKSTATS</c> generic netlink family (uapi <c>linux/taskstats.h</c>, <c>linux/cgroupstats.h</c>).</summary>
public static class TaskstatsProtocol
{
    /// <summary>The family name to resolve through nlctrl.</summary>
    public const string FamilyName = "TASKSTATS";

    public const byte CmdGet = 1;
    public const byte CmdNew = 2;
    public const byte CgroupstatsCmdGet = 4;
    public const byte CgroupstatsCmdNew = 5;

    // TASKSTATS_CMD_ATTR_*: attributes of requests.
    public const ushort CmdAttrPid = 1;
    public const ushort CmdAttrTgid = 2;
    public const ushort CmdAttrRegisterCpumask = 3;
    public const ushort CmdAttrDeregisterCpumask = 4;

    // TASKSTATS_TYPE_*: attributes of replies and exit messages.
    public const ushort TypePid = 1;
    public const ushort TypeTgid = 2;
    public const ushort TypeStats = 3;
    public const ushort TypeAggrPid = 4;
    public const ushort TypeAggrTgid = 5;
    public const ushort TypeNull = 6;

    public const ushort CgroupstatsCmdAttrFd = 1;
    public const ushort CgroupstatsTypeCgroupStats = 1;
}
