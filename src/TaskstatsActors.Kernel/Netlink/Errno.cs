namespace TaskstatsActors.Kernel.Netlink;

/// <summary>The Linux errno values this library reports, with what each means to a person running it.</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EINVAL = 22;
    public const int EPROTONOSUPPORT = 93;
    public const int EOPNOTSUPP = 95;
    public const int EAFNOSUPPORT = 97;
    public const int ENOBUFS = 105;

    /// <summary>The symbolic name, e.g. <c>EPERM</c>, or <c>errno 42</c>.</summary>
    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ESRCH => "ESRCH",
        EINTR => "EINTR",
        EBADF => "EBADF",
        EAGAIN => "EAGAIN",
        EACCES => "EACCES",
        EINVAL => "EINVAL",
        EPROTONOSUPPORT => "EPROTONOSUPPORT",
        EOPNOTSUPP => "EOPNOTSUPP",
        EAFNOSUPPORT => "EAFNOSUPPORT",
        ENOBUFS => "ENOBUFS",
        _ => $"errno {errno}",
    };

    /// <summary>What the error means for taskstats, phrased for the person who has to fix it.</summary>
    public static string Explain(int errno) => errno switch
    {
        EPERM or EACCES => "needs CAP_NET_ADMIN (run as root or grant the capability)",
        ESRCH => "no such task (the process has exited or never existed)",
        ENOENT => "not found",
        EINVAL => "the kernel refused the request as invalid",
        ENOBUFS => "the socket's receive buffer overflowed and the kernel dropped messages",
        EPROTONOSUPPORT or EAFNOSUPPORT => "this kernel has no generic netlink support",
        _ => System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno),
    };
}
