using System.Runtime.InteropServices;
using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Kernel.Host;

/// <summary>Pins the calling thread to a set of CPUs (<c>sched_setaffinity</c> on the thread itself).</summary>
public static unsafe partial class CpuAffinity
{
    private const int SetSizeBytes = 1024; // cpu_set_t for up to 8192 CPUs

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nint size, byte* mask);

    /// <summary>Restricts the calling thread to <paramref name="cpus"/>; pid 0 means "this thread" to the kernel.</summary>
    public static void PinCurrentThread(CpuMask cpus)
    {
        byte* set = stackalloc byte[SetSizeBytes];
        new Span<byte>(set, SetSizeBytes).Clear();
        foreach (var cpu in cpus)
            set[cpu / 8] |= (byte)(1 << (cpu % 8));
        if (sched_setaffinity(0, SetSizeBytes, set) != 0)
            throw new InvalidOperationException($"cannot pin a thread to cpus {cpus}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }
}
