namespace TaskstatsActors.Kernel.Netlink;

/// <summary>
/// The kernel answered a request with <c>NLMSG_ERROR</c> (or a socket call failed): carries the
/// errno and a message that says what it means, e.g. <c>EPERM</c> → "needs CAP_NET_ADMIN …".
/// </summary>
public sealed class NetlinkErrorException : Exception
{
    /// <summary>The positive errno value.</summary>
    public int Errno { get; }

    /// <summary>What was being done, e.g. "TASKSTATS_CMD_GET pid 42".</summary>
    public string Operation { get; }

    /// <summary>Creates the error for <paramref name="operation"/> failing with <paramref name="errno"/>.</summary>
    public NetlinkErrorException(string operation, int errno)
        : base($"{operation}: {Netlink.Errno.Explain(errno)} ({Netlink.Errno.Name(errno)})")
    {
        Errno = errno;
        Operation = operation;
    }
}

/// <summary>
/// The socket's receive queue overflowed (<c>ENOBUFS</c>): the kernel dropped messages. The socket
/// stays registered and usable; the drop counter says how many were lost.
/// </summary>
public sealed class NetlinkOverflowException : Exception
{
    public NetlinkOverflowException()
        : base("netlink receive buffer overflowed (ENOBUFS): the kernel dropped messages") { }
}
