using System.Runtime.InteropServices;

namespace TaskstatsActors.Kernel.Netlink;

/// <summary>Blocks the calling thread in <c>poll()</c> on one or two descriptors.</summary>
internal static unsafe class Readiness
{
    /// <summary>No descriptor became ready before the timeout.</summary>
    public const int TimedOut = -1;

    /// <summary>
    /// Waits until <paramref name="first"/> or <paramref name="second"/> is readable (or has an error
    /// pending, such as <c>ENOBUFS</c>); returns 0 or 1 for which, or <see cref="TimedOut"/>.
    /// </summary>
    /// <param name="first">The descriptor that matters most: it wins when both are ready.</param>
    /// <param name="second">Another descriptor, or null.</param>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> for as long as it takes.</param>
    public static int Wait(SafeHandle first, SafeHandle? second, TimeSpan timeout)
    {
        // The references keep the descriptor numbers from being closed and reused while poll() holds them.
        bool firstHeld = false, secondHeld = false;
        try
        {
            first.DangerousAddRef(ref firstHeld);
            second?.DangerousAddRef(ref secondHeld);
            var fds = stackalloc LibC.PollFd[2];
            fds[0] = new LibC.PollFd { Fd = (int)first.DangerousGetHandle(), Events = LibC.POLLIN };
            fds[1] = new LibC.PollFd { Fd = second is null ? -1 : (int)second.DangerousGetHandle(), Events = LibC.POLLIN };
            var milliseconds = timeout == Timeout.InfiniteTimeSpan ? -1 : (int)Math.Ceiling(Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
            var deadline = Environment.TickCount64 + milliseconds;
            while (true)
            {
                var ready = LibC.poll(fds, second is null ? 1u : 2u, milliseconds);
                if (ready > 0)
                    return fds[0].Returned != 0 ? 0 : 1;
                if (ready == 0)
                    return TimedOut;
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                    throw new NetlinkErrorException("waiting for the netlink socket", errno);
                // The runtime's own signals interrupt poll(); wait out the rest.
                if (milliseconds >= 0)
                    milliseconds = (int)Math.Max(0, deadline - Environment.TickCount64);
            }
        }
        finally
        {
            if (secondHeld)
                second!.DangerousRelease();
            if (firstHeld)
                first.DangerousRelease();
        }
    }
}
