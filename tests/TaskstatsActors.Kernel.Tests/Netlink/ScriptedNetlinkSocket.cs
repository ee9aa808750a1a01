using System.Threading.Channels;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.Tests.Netlink;

/// <summary>
/// A socket whose "kernel" is a function: each request datagram sent gets the datagrams (or
/// exceptions) the function returns, queued for receiving in that order.
/// </summary>
internal sealed class ScriptedNetlinkSocket(Func<NetlinkHeader, IEnumerable<object>> answer) : INetlinkSocket
{
    private readonly Channel<object> _queue = Channel.CreateUnbounded<object>();

    public List<byte[]> Sent { get; } = [];

    public uint PortId { get; init; } = 777;

    public bool Disposed { get; private set; }

    public void Send(ReadOnlySpan<byte> datagram)
    {
        Sent.Add(datagram.ToArray());
        foreach (var item in answer(NetlinkHeader.Read(datagram)))
            _queue.Writer.TryWrite(item);
    }

    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var item = await _queue.Reader.ReadAsync(cancellationToken);
        return Deliver(item, buffer.Span);
    }

    public bool WaitReadable(WakeSignal wake, TimeSpan timeout)
    {
        var readable = _queue.Reader.WaitToReadAsync().AsTask();
        return Task.WaitAny([readable, wake.WhenSet], timeout) == 0 && readable.Result;
    }

    public int TryReceive(Span<byte> buffer) => _queue.Reader.TryRead(out var item) ? Deliver(item, buffer) : -1;

    private static int Deliver(object item, Span<byte> buffer)
    {
        if (item is Exception fault)
            throw fault;
        var datagram = (byte[])item;
        datagram.CopyTo(buffer);
        return datagram.Length;
    }

    public int SetReceiveBuffer(int bytes) => bytes * 2;

    public void EndCongestion() { }

    public int ReceiveBufferSize => 212_992;

    public uint DropCount => 0;

    public uint QueuedBytes => 0;

    public void Dispose() => Disposed = true;
}
