namespace TaskstatsActors.Kernel.Host;

/// <summary>
/// Whether this process sits in the initial pid and network namespaces: the kernel sends exit
/// records only to listeners there, so a containerised collector hears nothing.
/// </summary>
public static class Namespaces
{
    // PROC_PID_INIT_INO: the inode the kernel gives the initial pid namespace.
    private const string InitialPidNamespace = "pid:[4026531836]";

    /// <summary>True in the initial pid namespace; null when it cannot be read.</summary>
    public static bool? IsInitialPid() => ReadLink("/proc/self/ns/pid") is { } link ? link == InitialPidNamespace : null;

    /// <summary>
    /// True when this process shares init's network namespace. Only meaningful in the initial pid
    /// namespace, where pid 1 is the host's init; null when it cannot be read.
    /// </summary>
    public static bool? IsInitialNet()
    {
        var self = ReadLink("/proc/self/ns/net");
        var init = ReadLink("/proc/1/ns/net");
        return self is null || init is null ? null : self == init;
    }

    // FileInfo.LinkTarget returns "" for /proc/1/ns/* on some kernels; readlink(2) does not.
    private static unsafe string? ReadLink(string path)
    {
        byte* buffer = stackalloc byte[256];
        var length = Netlink.LibC.readlink(path, buffer, 256);
        return length <= 0 ? null : System.Text.Encoding.UTF8.GetString(buffer, (int)length);
    }
}
