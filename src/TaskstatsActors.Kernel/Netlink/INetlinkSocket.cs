using System.Runtime.ExceptionServices;

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
    /// Blocks the calling thread until a datagram (or an overflow report) is queued, <paramref name="wake"/>
    /// is set, or <paramref name="timeout"/> passes; true when the socket is readable. Unlike
    /// <see cref="ReceiveAsync"/> this involves no other thread, so a receive loop on its own thread
    /// wakes once per wait rather than once per datagram.
    /// </summary>
    bool WaitReadable(WakeSignal wake, TimeSpan timeout);

    /// <summary>
    /// Receives as many queued datagrams as fit in <paramref name="batch"/>, but no more than
    /// <paramref name="limit"/>, without waiting, and returns how many (0 when the queue is empty).
    /// Throws <see cref="NetlinkOverflowException"/> on <c>ENOBUFS</c>; a failure met after some datagrams
    /// were received is thrown by the next call instead.
    /// This default receives one datagram at a time; the real socket makes one <c>recvmmsg()</c> call.
    /// </summary>
    int ReceiveBatch(DatagramBatch batch, int limit = int.MaxValue)
    {
        batch.Clear();
        batch.ThrowPendingFault();
        while (batch.Count < Math.Min(batch.Capacity, limit))
        {
            int length;
            try
            {
                length = TryReceive(batch.NextSlot);
            }
            catch (Exception e) when (batch.Count > 0)
            {
                // As recvmmsg() does: what was received is returned, the error comes with the next call.
                batch.PendingFault = ExceptionDispatchInfo.Capture(e);
                break;
            }
            if (length < 0)
                break;
            batch.Add(length, truncated: false);
        }
        return batch.Count;
    }

    /// <summary>
    /// Asks for a receive buffer of <paramref name="bytes"/> (<c>SO_RCVBUFFORCE</c>, else <c>SO_RCVBUF</c>)
    /// and returns the size the kernel granted (it doubles the request, and caps <c>SO_RCVBUF</c> at <c>rmem_max</c>).
    /// </summary>
    int SetReceiveBuffer(int bytes);

    /// <summary>
    /// Ends the socket's congestion at once, by setting <c>NETLINK_NO_ENOBUFS</c>. After an overflow a netlink socket
    /// drops every message, room or not, until a receive leaves its queue empty; with this option set it drops only
    /// what does not fit, and reports no more <c>ENOBUFS</c>. Drops are still counted in <see cref="DropCount"/>.
    /// For a socket about to be replaced, which must keep its queue and take what still comes.
    /// </summary>
    void EndCongestion();

    /// <summary>The receive buffer size in force.</summary>
    int ReceiveBufferSize { get; }

    /// <summary>Messages the kernel dropped on this socket so far (<c>SO_MEMINFO</c> <c>SK_MEMINFO_DROPS</c>).</summary>
    uint DropCount { get; }

    /// <summary>Bytes waiting in the receive queue now (<c>SK_MEMINFO_RMEM_ALLOC</c>).</summary>
    uint QueuedBytes { get; }
}
