using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace TaskstatsActors.Kernel.Netlink;

/// <summary>
/// A real <c>AF_NETLINK</c>/<c>NETLINK_GENERIC</c> socket. .NET refuses address family 16, so the
/// descriptor is made with libc and then wrapped in <see cref="Socket"/> for sends and socket options.
/// Waiting is done with our own <c>poll()</c>, never with <see cref="Socket"/>'s async receives: those
/// register the descriptor with the runtime's epoll thread, which then wakes for every datagram the
/// kernel queues (tens of thousands a second in an exit storm), whoever is reading.
/// </summary>
public sealed class NetlinkSocket : INetlinkSocket
{
    private const int SOL_SOCKET = 1;
    private const int SO_RCVBUF = 8;
    private const int SO_RCVBUFFORCE = 33;
    private const int SO_MEMINFO = 55;
    private const int SkMemInfoRmemAlloc = 0;
    private const int SkMemInfoDrops = 8;
    private const int SkMemInfoCount = 9;
    private const int SOL_NETLINK = 270;
    private const int NETLINK_NO_ENOBUFS = 5;

    private readonly Socket _socket;

    /// <inheritdoc />
    public uint PortId { get; }

    private NetlinkSocket(Socket socket, uint portId)
    {
        _socket = socket;
        PortId = portId;
    }

    /// <summary>Opens and binds a generic netlink socket; the kernel picks the port id.</summary>
    public static unsafe NetlinkSocket Open()
    {
        var fd = LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, LibC.NETLINK_GENERIC);
        if (fd < 0)
            throw new NetlinkErrorException("opening a generic netlink socket", Marshal.GetLastPInvokeError());
        try
        {
            byte* address = stackalloc byte[LibC.SockaddrNlSize];
            new Span<byte>(address, LibC.SockaddrNlSize).Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(address, 2), LibC.AF_NETLINK);
            if (LibC.bind(fd, address, LibC.SockaddrNlSize) < 0)
                throw new NetlinkErrorException("binding the netlink socket", Marshal.GetLastPInvokeError());
            var length = LibC.SockaddrNlSize;
            if (LibC.getsockname(fd, address, &length) < 0)
                throw new NetlinkErrorException("reading the netlink port id", Marshal.GetLastPInvokeError());
            var portId = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(address + 4, 4));
            var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true)) { Blocking = false };
            return new NetlinkSocket(socket, portId);
        }
        catch
        {
            LibC.close(fd);
            throw;
        }
    }

    /// <inheritdoc />
    public void Send(ReadOnlySpan<byte> datagram)
    {
        var sent = _socket.Send(datagram, SocketFlags.None, out var error);
        if (error != SocketError.Success || sent != datagram.Length)
            throw new NetlinkErrorException("sending a netlink request", ToErrno(error));
    }

    /// <inheritdoc />
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var received = TryReceive(buffer.Span);
            if (received >= 0)
                return received;
            // Requests and the one-shot commands wait here. The wait blocks in poll(), so it gets a thread
            // of its own: on a pool thread it could hold back the very timer that is to cancel it.
            using var wake = new WakeSignal();
            await using var registration = cancellationToken.Register(wake.Set).ConfigureAwait(false);
            await Task.Factory.StartNew(() => WaitReadable(wake, Timeout.InfiniteTimeSpan), CancellationToken.None,
                TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public bool WaitReadable(WakeSignal wake, TimeSpan timeout) =>
        Readiness.Wait(_socket.SafeHandle, wake.Descriptor, timeout) == 0;

    /// <inheritdoc />
    public unsafe int ReceiveBatch(DatagramBatch batch, int limit = int.MaxValue)
    {
        batch.Clear();
        if (limit <= 0)
            return 0;
        var held = false;
        try
        {
            _socket.SafeHandle.DangerousAddRef(ref held);
            var fd = (int)_socket.SafeHandle.DangerousGetHandle();
            fixed (LibC.MMsgHdr* headers = batch.Headers)
            {
                while (true)
                {
                    var received = LibC.recvmmsg(fd, headers, (uint)Math.Min(limit, batch.Capacity), LibC.MSG_DONTWAIT, null);
                    if (received >= 0)
                    {
                        for (var i = 0; i < received; i++)
                            batch.Add((int)headers[i].Length, (headers[i].Header.Flags & LibC.MSG_TRUNC) != 0);
                        return received;
                    }
                    switch (Marshal.GetLastPInvokeError())
                    {
                        case Errno.EINTR:
                            continue;
                        case Errno.EAGAIN:
                            return 0;
                        case Errno.ENOBUFS:
                            throw new NetlinkOverflowException();
                        case var errno:
                            throw new NetlinkErrorException("receiving from the netlink socket", errno);
                    }
                }
            }
        }
        finally
        {
            if (held)
                _socket.SafeHandle.DangerousRelease();
        }
    }

    /// <inheritdoc />
    public int TryReceive(Span<byte> buffer)
    {
        var received = _socket.Receive(buffer, SocketFlags.None, out var error);
        return error switch
        {
            SocketError.Success => received,
            SocketError.WouldBlock => -1,
            SocketError.NoBufferSpaceAvailable => throw new NetlinkOverflowException(),
            _ => throw new NetlinkErrorException("receiving from the netlink socket", ToErrno(error)),
        };
    }

    /// <inheritdoc />
    public int SetReceiveBuffer(int bytes)
    {
        try
        {
            // SO_RCVBUFFORCE passes rmem_max, but needs CAP_NET_ADMIN; SO_RCVBUF is capped by rmem_max.
            SetIntOption(SOL_SOCKET, SO_RCVBUFFORCE, bytes);
        }
        catch (SocketException)
        {
            SetIntOption(SOL_SOCKET, SO_RCVBUF, bytes);
        }
        return ReceiveBufferSize;
    }

    /// <inheritdoc />
    public void EndCongestion()
    {
        // The kernel clears the congestion bit as it sets the flag (net/netlink/af_netlink.c, netlink_setsockopt).
        SetIntOption(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1);
    }

    // An int option, as setsockopt takes it (host byte order, little-endian on every host this runs on).
    private void SetIntOption(int level, int name, int value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        _socket.SetRawSocketOption(level, name, bytes);
    }

    /// <inheritdoc />
    public int ReceiveBufferSize
    {
        get
        {
            Span<byte> value = stackalloc byte[4];
            _socket.GetRawSocketOption(SOL_SOCKET, SO_RCVBUF, value);
            return BinaryPrimitives.ReadInt32LittleEndian(value);
        }
    }

    /// <inheritdoc />
    public uint DropCount => ReadMemInfo(SkMemInfoDrops);

    /// <inheritdoc />
    public uint QueuedBytes => ReadMemInfo(SkMemInfoRmemAlloc);

    private uint ReadMemInfo(int index)
    {
        Span<byte> values = stackalloc byte[SkMemInfoCount * 4];
        var length = _socket.GetRawSocketOption(SOL_SOCKET, SO_MEMINFO, values);
        return length >= (index + 1) * 4 ? BinaryPrimitives.ReadUInt32LittleEndian(values[(index * 4)..]) : 0;
    }

    private static int ToErrno(SocketError error) => error switch
    {
        SocketError.AccessDenied => Errno.EACCES,
        SocketError.NoBufferSpaceAvailable => Errno.ENOBUFS,
        SocketError.WouldBlock => Errno.EAGAIN,
        SocketError.InvalidArgument => Errno.EINVAL,
        _ => (int)error,
    };

    /// <summary>Closes the socket. The kernel drops a cpumask still registered on it the next time a send to it fails.</summary>
    public void Dispose() => _socket.Dispose();
}
