namespace TaskstatsActors.Kernel.Netlink;

/// <summary>
/// A datagram socket to the kernel's generic netlink. The real one is <see cref="NetlinkSocket"/>;
/// tests put a fake kernel behind this interface.
/// </summary>
public interface INetlinkSocket : IDisposable
{
    /// <summary>The port id the kernel assigned at bind; replies to our requests carry it, broadcasts carry 0.</summary>
    uint PortId { get; }

    /// <summary>Sends one request datagram.</summary>
    void Send(ReadOnlySpan<byte> datagram);

    /// <summary>
    /// Waits for and receives one datagram. Throws <see cref="NetlinkOverflowException"/> when the
    /// kernel reports <c>ENOBUFS</c> (messages were dropped; the socket goes on working).
    /// </summary>
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>
    /// Receives one datagram if one is queued, without waiting; returns its length, or -1 when the
    /// queue is empty. Throws <see cref="NetlinkOverflowException"/> on <c>ENOBUFS</c>.
    /// </summary>
    int TryReceive(Span<byte> buffer);

    /// <summary>
    /// Asks for a receive buffer of <paramref name="bytes"/> (<c>SO_RCVBUFFORCE</c>, else <c>SO_RCVBUF</c>)
    /// and returns the size the kernel granted (it doubles the request, and caps <c>SO_RCVBUF</c> at <c>rmem_max</c>).
    /// </summary>
    int SetReceiveBuffer(int bytes);

    /// <summary>The receive buffer size in force.</summary>
    int ReceiveBufferSize { get; }

    /// <summary>Messages the kernel dropped on this socket so far (<c>SO_MEMINFO</c> <c>SK_MEMINFO_DROPS</c>).</summary>
    uint DropCount { get; }

    /// <summary>Bytes waiting in the receive queue now (<c>SK_MEMINFO_RMEM_ALLOC</c>).</summary>
    uint QueuedBytes { get; }
}
