using System.Threading.Channels;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.TestSupport.FakeKernel;

/// <summary>
/// A socket to a <see cref="FakeKernel"/>. Its receive queue has a byte budget like a real one:
/// a message that does not fit is dropped and counted. As in the kernel (netlink_overrun), the first drop
/// marks the socket congested and is reported as ENOBUFS on the next receive. A congested socket drops every
/// message, even one its buffer has room for, and only counts it, until a receive leaves the queue empty.
/// Tests can also push raw (malformed) datagrams and make a receive fail.
/// </summary>
public sealed class FakeNetlinkSocket : INetlinkSocket
{
    // Roughly what a queued netlink skb costs beyond its data, so small buffers fill as real ones do.
    private const int Overhead = 768;

    private readonly FakeKernel _kernel;
    private readonly Channel<object> _queue = Channel.CreateUnbounded<object>();
    private readonly object _gate = new();
    private long _queuedBytes;
    // Completed while an ENOBUFS is pending: like the kernel's error report, it wakes a reader with nothing queued.
    private TaskCompletionSource _overflowSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _congested;
    private bool _noEnobufs;
    private uint _drops;
    private int _receiveBuffer = 212_992;
    private bool _disposed;

    internal FakeNetlinkSocket(FakeKernel kernel, uint portId)
    {
        _kernel = kernel;
        PortId = portId;
    }

    /// <inheritdoc />
    public uint PortId { get; }

    /// <summary>True once disposed.</summary>
    public bool IsClosed => _disposed;

    /// <inheritdoc />
    public void Send(ReadOnlySpan<byte> datagram)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _kernel.Handle(this, datagram);
    }

    /// <summary>Puts an arbitrary datagram in the receive queue (e.g. a malformed one).</summary>
    public void Inject(byte[] datagram) => _queue.Writer.TryWrite(new Queued(datagram, Charged: false));

    /// <summary>Makes the next receive throw <paramref name="fault"/>.</summary>
    public void FailNextReceive(Exception fault) => _queue.Writer.TryWrite(fault);

    internal void Reply(byte[] datagram) => _queue.Writer.TryWrite(new Queued(datagram, Charged: false));

    internal void Deliver(byte[] datagram)
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            // As netlink_attachskb: a congested socket drops even where it has room, until a receive empties it.
            if (_congested || _queuedBytes + datagram.Length + Overhead > _receiveBuffer)
            {
                _drops++;
                if (!_congested && !_noEnobufs)
                {
                    _congested = true;
                    _overflowSignal.TrySetResult();
                }
                return;
            }
            _queuedBytes += datagram.Length + Overhead;
        }
        _queue.Writer.TryWrite(new Queued(datagram, Charged: true));
    }

    /// <inheritdoc />
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var received = TryReceive(buffer.Span);
            if (received >= 0)
                return received;
            var readable = _queue.Reader.WaitToReadAsync(cancellationToken).AsTask();
            if (await Task.WhenAny(readable, OverflowSignal) == readable && !await readable)
                throw new ObjectDisposedException(nameof(FakeNetlinkSocket));
        }
    }

    /// <inheritdoc />
    public bool WaitReadable(WakeSignal wake, TimeSpan timeout)
    {
        var readable = _queue.Reader.WaitToReadAsync().AsTask();
        switch (Task.WaitAny([readable, OverflowSignal, wake.WhenSet], timeout))
        {
            case 0:
                return readable.Result ? true : throw new ObjectDisposedException(nameof(FakeNetlinkSocket));
            case 1:
                return true;
            default:
                return false;
        }
    }

    /// <inheritdoc />
    public int TryReceive(Span<byte> buffer)
    {
        lock (_gate)
        {
            if (_overflowSignal.Task.IsCompleted)
            {
                _overflowSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                ClearCongestionIfEmpty();
                throw new NetlinkOverflowException();
            }
        }
        if (!_queue.Reader.TryRead(out var item))
        {
            lock (_gate)
                ClearCongestionIfEmpty();
            return -1;
        }
        if (item is Exception fault)
            throw fault;
        var (datagram, charged) = (Queued)item;
        lock (_gate)
        {
            if (charged)
                _queuedBytes -= datagram.Length + Overhead;
            ClearCongestionIfEmpty();
        }
        datagram.CopyTo(buffer);
        return datagram.Length;
    }

    private Task OverflowSignal
    {
        get { lock (_gate) return _overflowSignal.Task; }
    }

    // The kernel's netlink_rcv_wake after every receive: an empty queue ends the congestion.
    private void ClearCongestionIfEmpty()
    {
        if (_queue.Reader.Count == 0)
            _congested = false;
    }

    /// <summary>The most a receive buffer is granted, as <c>rmem_max</c> caps one set without <c>CAP_NET_ADMIN</c>; null for no cap.</summary>
    public int? MaxGrant { get; set; }

    /// <inheritdoc />
    public int SetReceiveBuffer(int bytes)
    {
        var granted = Math.Min(bytes * 2L, MaxGrant ?? int.MaxValue);
        lock (_gate)
            _receiveBuffer = (int)granted;
        _kernel.Log.Enqueue($"rcvbuf {PortId} {granted}");
        return (int)granted;
    }

    /// <inheritdoc />
    public int ReceiveBufferSize => _receiveBuffer;

    /// <inheritdoc />
    public void EndCongestion()
    {
        lock (_gate)
        {
            _noEnobufs = true;
            _congested = false;
        }
        _kernel.Log.Enqueue($"no-enobufs {PortId}");
    }

    /// <summary>True from a drop until a receive leaves the queue empty: every message is dropped meanwhile.</summary>
    public bool Congested
    {
        get { lock (_gate) return _congested; }
    }

    /// <inheritdoc />
    public uint DropCount
    {
        get { lock (_gate) return _drops; }
    }

    /// <inheritdoc />
    public uint QueuedBytes
    {
        get { lock (_gate) return (uint)_queuedBytes; }
    }

    private sealed record Queued(byte[] Datagram, bool Charged);

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        _queue.Writer.TryComplete();
        _kernel.Closed(this);
    }
}
