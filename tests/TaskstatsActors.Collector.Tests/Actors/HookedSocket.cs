using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>What a request datagram sent to the fake kernel asks for.</summary>
public enum RequestKind
{
    ResolveFamily,
    Register,
    Deregister,
    Other,
}

/// <summary>
/// A <see cref="FakeNetlinkSocket"/> as the collector sees it, with test hooks that change nothing
/// about what the socket does: the host is told about every request before it reaches the fake kernel
/// (so a test can make exits at an exact point of a handover or a restart), the receive loop can be
/// parked at the top of its next wait (so a test can queue messages and faults behind its back), and a
/// test can act after each message received (so that exits arrive in the middle of a drain).
/// </summary>
public sealed class HookedSocket : INetlinkSocket
{
    private readonly FakeHost _host;
    private TaskCompletionSource? _pause;
    private volatile bool _parked;
    private int _received;

    internal HookedSocket(FakeHost host, FakeNetlinkSocket inner, int index)
    {
        _host = host;
        Inner = inner;
        Index = index;
    }

    /// <summary>The fake kernel's socket underneath.</summary>
    public FakeNetlinkSocket Inner { get; }

    /// <summary>Order of opening, from 0, over the whole test.</summary>
    public int Index { get; }

    /// <summary>The cpumask this socket last registered (e.g. "0"), or null.</summary>
    public string? Mask { get; private set; }

    /// <summary>
    /// The drop counter the moment a replacement socket for the same mask was about to register: the
    /// drops after that are the replacement's to count. Null while the socket was never replaced.
    /// </summary>
    public uint? DropsWhenReplaced { get; internal set; }

    /// <summary>Drops this socket is accountable for: all of them, or those before its replacement registered.</summary>
    public uint AccountableDrops => DropsWhenReplaced ?? Inner.DropCount;

    /// <summary>True while the receive loop waits at the parking gate.</summary>
    public bool Parked => _parked;

    public uint PortId => Inner.PortId;

    public void Send(ReadOnlySpan<byte> datagram)
    {
        var (kind, mask) = Classify(datagram);
        if (kind == RequestKind.Register)
            Mask = mask;
        _host.BeforeRequest(this, kind, mask);
        Inner.Send(datagram);
    }

    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        Inner.ReceiveAsync(buffer, cancellationToken);

    /// <summary>
    /// The wake signal the receive loop last waited with. The loop is woken through it when a command (a replacement,
    /// a stop) is posted to it, so a test can hold the loop until a command has reached it.
    /// </summary>
    public WakeSignal? LoopWake { get; private set; }

    public bool WaitReadable(WakeSignal wake, TimeSpan timeout)
    {
        LoopWake = wake;
        if (Volatile.Read(ref _pause) is { } pause)
        {
            _parked = true;
            try
            {
                // A wake-up (a command for the loop) ends the parking, as it ends any wait.
                if (Task.WaitAny([pause.Task, wake.WhenSet]) != 0)
                    return false;
            }
            finally
            {
                _parked = false;
            }
        }
        return Inner.WaitReadable(wake, timeout);
    }

    /// <summary>
    /// Called on the receive loop's thread after each datagram it receives, with how many it has received
    /// from this socket so far; what it does happens before the loop's next receive.
    /// </summary>
    public Action<int>? AfterReceive { get; set; }

    public int TryReceive(Span<byte> buffer)
    {
        var length = Inner.TryReceive(buffer);
        if (length >= 0)
            AfterReceive?.Invoke(++_received);
        return length;
    }

    public int SetReceiveBuffer(int bytes) => Inner.SetReceiveBuffer(bytes);

    public void EndCongestion() => Inner.EndCongestion();

    public int ReceiveBufferSize => Inner.ReceiveBufferSize;

    public uint DropCount => Inner.DropCount;

    public uint QueuedBytes => Inner.QueuedBytes;

    public void Dispose() => Inner.Dispose();

    /// <summary>
    /// Makes the receive loop stop at the top of its next wait. A no-op netlink message (which the
    /// listener skips, as it skips acknowledgements) wakes a loop that is waiting already.
    /// Wait for <see cref="Parked"/> before relying on it.
    /// </summary>
    public void Park()
    {
        Volatile.Write(ref _pause, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var noop = new byte[NetlinkHeader.Size];
        new NetlinkHeader(NetlinkHeader.Size, NetlinkMessageType.Noop, NetlinkFlags.None, 0, 0).Write(noop);
        Inner.Inject(noop);
    }

    /// <summary>Lets the parked receive loop go on.</summary>
    public void Unpark() => Interlocked.Exchange(ref _pause, null)?.TrySetResult();

    private static (RequestKind Kind, string? Mask) Classify(ReadOnlySpan<byte> datagram)
    {
        foreach (var message in NetlinkMessage.Split(datagram))
        {
            if (message.Header.Type == 0x10)
                return (RequestKind.ResolveFamily, null);
            foreach (var attribute in NetlinkAttribute.Split(message.Payload[GenericNetlinkHeader.Size..]))
            {
                if (attribute.Type == TaskstatsProtocol.CmdAttrRegisterCpumask)
                    return (RequestKind.Register, attribute.GetString());
                if (attribute.Type == TaskstatsProtocol.CmdAttrDeregisterCpumask)
                    return (RequestKind.Deregister, attribute.GetString());
            }
        }
        return (RequestKind.Other, null);
    }
}
