using System.Runtime.InteropServices;

namespace TaskstatsActors.Kernel.Netlink;

/// <summary>The few libc calls .NET's <see cref="System.Net.Sockets.Socket"/> cannot make for AF_NETLINK.</summary>
internal static unsafe partial class LibC
{
    internal const int AF_NETLINK = 16;
    internal const int SOCK_RAW = 3;
    internal const int SOCK_CLOEXEC = 0x80000;
    internal const int NETLINK_GENERIC = 16;
    internal const int SockaddrNlSize = 12;

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int bind(int fd, byte* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int getsockname(int fd, byte* address, int* length);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint readlink(string path, byte* buffer, nint size);

    internal const int O_RDONLY = 0;
    internal const int O_DIRECTORY = 0x10000;
    internal const int O_CLOEXEC = 0x80000;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags);
}
