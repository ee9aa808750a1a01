using System.Buffers.Binary;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.GenericNetlink;

/// <summary>
/// Requests over a generic netlink socket: numbers each request, sends it, and matches the reply,
/// acknowledgement or error by sequence number and port id. Other messages (broadcasts carry port
/// id 0) go to an <see cref="INetlinkEventHandler"/> instead of being dropped.
/// </summary>
public sealed class GenericNetlinkConnection : IDisposable
{
    private const ushort ControlFamilyId = 0x10; // GENL_ID_CTRL
    private const byte CtrlCmdGetFamily = 3;
    private const ushort CtrlAttrFamilyId = 1;
    private const ushort CtrlAttrFamilyName = 2;
    private const ushort CtrlAttrVersion = 3;
    private const ushort CtrlAttrMaxAttr = 5;

    private readonly byte[] _receiveBuffer = new byte[64 * 1024];
    private uint _sequence = (uint)Environment.TickCount;

    /// <summary>The socket underneath.</summary>
    public INetlinkSocket Socket { get; }

    /// <summary>How long to wait for the kernel to answer one request.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    public GenericNetlinkConnection(INetlinkSocket socket) => Socket = socket;

    /// <summary>Looks up a family by name through <c>nlctrl</c>; <c>ENOENT</c> means the kernel has no such family.</summary>
    public async Task<GenericNetlinkFamily> ResolveFamilyAsync(string name, CancellationToken cancellationToken = default)
    {
        var request = new NetlinkMessageWriter(ControlFamilyId, NetlinkFlags.Request)
            .Bytes(new GenericNetlinkHeader(CtrlCmdGetFamily, 1).ToBytes())
            .String(CtrlAttrFamilyName, name);
        var replies = await RequestAsync(request, $"resolving generic netlink family {name}", expectReply: true, null, cancellationToken);
        ushort? id = null;
        uint version = 0, maxAttribute = 0;
        foreach (var attribute in NetlinkAttribute.Split(replies[0].AsSpan(GenericNetlinkHeader.Size)))
        {
            switch (attribute.Type)
            {
                case CtrlAttrFamilyId: id = attribute.GetUInt16(); break;
                case CtrlAttrVersion: version = attribute.GetUInt32(); break;
                case CtrlAttrMaxAttr: maxAttribute = attribute.GetUInt32(); break;
            }
        }
        if (id is null)
            throw new NetlinkDecodeException($"nlctrl answered for family {name} without a family id");
        return new GenericNetlinkFamily(name, id.Value, version, maxAttribute);
    }

    /// <summary>
    /// Sends <paramref name="request"/> and waits for its answer. With <paramref name="expectReply"/>,
    /// returns the payload (generic netlink header onwards) of each reply message; otherwise asks for
    /// an acknowledgement and returns an empty list once it arrives. An <c>NLMSG_ERROR</c> with a
    /// non-zero errno becomes a <see cref="NetlinkErrorException"/> naming <paramref name="operation"/>.
    /// <paramref name="afterSend"/> runs as soon as the request is sent: the kernel handles generic
    /// netlink requests inside the sender's <c>send()</c>, so this is the moment the request took effect.
    /// </summary>
    public async Task<IReadOnlyList<byte[]>> RequestAsync(
        NetlinkMessageWriter request, string operation, bool expectReply,
        INetlinkEventHandler? events, CancellationToken cancellationToken = default, Action? afterSend = null)
    {
        var sequence = unchecked(++_sequence);
        // Replies are small and rare: copying them keeps this loop simple.
        var replies = new List<byte[]>();
        Socket.Send(request.ToArray(sequence, Socket.PortId));
        afterSend?.Invoke();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        while (true)
        {
            int length;
            try
            {
                length = await Socket.ReceiveAsync(_receiveBuffer, timeout.Token).ConfigureAwait(false);
            }
            catch (NetlinkOverflowException)
            {
                events?.OnOverflow();
                continue;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{operation}: the kernel did not answer within {Timeout.TotalSeconds:0.#} s");
            }
            if (Consume(_receiveBuffer.AsSpan(0, length), sequence, operation, expectReply, replies, events))
                return replies;
        }
    }

    private bool Consume(ReadOnlySpan<byte> datagram, uint sequence, string operation, bool expectReply,
        List<byte[]> replies, INetlinkEventHandler? events)
    {
        var done = false;
        foreach (var message in NetlinkMessage.Split(datagram))
        {
            var header = message.Header;
            if (header.Sequence != sequence || header.PortId != Socket.PortId)
            {
                events?.OnMessage(message);
                continue;
            }
            switch (header.Type)
            {
                case NetlinkMessageType.Error:
                    if (message.Payload.Length < 4)
                        throw new NetlinkDecodeException($"{operation}: NLMSG_ERROR with {message.Payload.Length} payload bytes");
                    var error = -BinaryPrimitives.ReadInt32LittleEndian(message.Payload);
                    if (error != 0)
                        throw new NetlinkErrorException(operation, error);
                    done = true; // the acknowledgement
                    break;
                case NetlinkMessageType.Done:
                    done = true;
                    break;
                case NetlinkMessageType.Noop:
                    break;
                default:
                    replies.Add(message.Payload.ToArray());
                    if (expectReply && !header.Flags.HasFlag(NetlinkFlags.Multi))
                        done = true;
                    break;
            }
        }
        return done;
    }

    /// <summary>Starts a request to <paramref name="family"/>: netlink header flags plus the generic netlink header.</summary>
    public static NetlinkMessageWriter NewRequest(GenericNetlinkFamily family, byte command, bool ack) =>
        new NetlinkMessageWriter(family.Id, ack ? NetlinkFlags.Request | NetlinkFlags.Ack : NetlinkFlags.Request)
            .Bytes(new GenericNetlinkHeader(command, (byte)family.Version).ToBytes());

    /// <summary>Closes the socket.</summary>
    public void Dispose() => Socket.Dispose();
}
