using System.Runtime.InteropServices;

namespace TaskstatsActors.Kernel.Netlink;

/// <summary>
/// Wakes a thread blocked in <see cref="INetlinkSocket.WaitReadable"/> from another thread: an
/// <c>eventfd</c> that the real socket polls beside its own descriptor, and a task that fakes can await.
/// Once set it stays set until <see cref="Reset"/>, so a wake-up sent just before the wait begins is not lost.
/// </summary>
public sealed unsafe class WakeSignal : IDisposable
{
    private readonly FileDescriptor _eventFd;
    private readonly Lock _gate = new();
    private TaskCompletionSource _set = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates an unset signal.</summary>
    public WakeSignal()
    {
        var fd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        if (fd < 0)
            throw new NetlinkErrorException("creating an eventfd to wake the receive loop", Marshal.GetLastPInvokeError());
        _eventFd = new FileDescriptor(fd);
    }

    internal SafeHandle Descriptor => _eventFd;

    /// <summary>Completes when the signal is set; for sockets that have no descriptor to poll (fakes).</summary>
    public Task WhenSet
    {
        get
        {
            lock (_gate)
                return _set.Task;
        }
    }

    /// <summary>Sets the signal; any thread may call this, any number of times.</summary>
    public void Set()
    {
        lock (_gate)
        {
            if (_eventFd.IsClosed)
                return;
            ulong one = 1;
            LibC.write((int)_eventFd.DangerousGetHandle(), &one, sizeof(ulong));
            _set.TrySetResult();
        }
    }

    /// <summary>Clears the signal. Call it before looking again at whatever the setter announced.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            if (_eventFd.IsClosed)
                return;
            if (_set.Task.IsCompleted)
                _set = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            ulong value;
            LibC.read((int)_eventFd.DangerousGetHandle(), &value, sizeof(ulong));
        }
    }

    /// <summary>Blocks until the signal is set or <paramref name="timeout"/> passes; true when set.</summary>
    public bool Wait(TimeSpan timeout) => Readiness.Wait(_eventFd, null, timeout) == 0;

    /// <summary>Closes the eventfd; later <see cref="Set"/> and <see cref="Reset"/> calls do nothing.</summary>
    public void Dispose()
    {
        lock (_gate)
            _eventFd.Dispose();
    }
}
