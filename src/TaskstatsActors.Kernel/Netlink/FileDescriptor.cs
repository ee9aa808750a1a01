using System.Runtime.InteropServices;

namespace TaskstatsActors.Kernel.Netlink;

/// <summary>A descriptor this library opened with libc (an eventfd), closed once nobody uses it any more.</summary>
internal sealed class FileDescriptor : SafeHandle
{
    public FileDescriptor(int fd) : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
