using System.Buffers.Binary;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.Tests.Netlink;

/// <summary>Builds netlink wire bytes by hand, independently of <see cref="NetlinkMessageWriter"/>.</summary>
internal static class NetlinkBytes
{
    /// <summary>One message: header with <c>nlmsg_len = 16 + payload</c>, payload, then padding to 4 bytes unless <paramref name="pad"/> is false.</summary>
    public static byte[] Message(ushort type, uint sequence, uint portId, ReadOnlySpan<byte> payload, bool pad = true, NetlinkFlags flags = NetlinkFlags.None)
    {
        var length = NetlinkHeader.Size + payload.Length;
        var bytes = new byte[pad ? NetlinkHeader.Align(length) : length];
        new NetlinkHeader((uint)length, type, flags, sequence, portId).Write(bytes);
        payload.CopyTo(bytes.AsSpan(NetlinkHeader.Size));
        return bytes;
    }

    /// <summary>One attribute: <c>nla_len = 4 + payload</c>, the raw type (flags kept), payload, padding unless <paramref name="pad"/> is false.</summary>
    public static byte[] Attribute(ushort rawType, ReadOnlySpan<byte> payload, bool pad = true)
    {
        var length = NetlinkAttribute.HeaderSize + payload.Length;
        var bytes = new byte[pad ? NetlinkHeader.Align(length) : length];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)length);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), rawType);
        payload.CopyTo(bytes.AsSpan(NetlinkAttribute.HeaderSize));
        return bytes;
    }

    public static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    public static byte[] U16(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        return bytes;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(part => part).ToArray();

    /// <summary>An <c>NLMSG_ERROR</c> answering a request with <paramref name="sequence"/> and <paramref name="portId"/>.</summary>
    public static byte[] Error(int errno, uint sequence, uint portId)
    {
        var payload = new byte[4 + NetlinkHeader.Size];
        BinaryPrimitives.WriteInt32LittleEndian(payload, -errno);
        return Message(NetlinkMessageType.Error, sequence, portId, payload);
    }
}
