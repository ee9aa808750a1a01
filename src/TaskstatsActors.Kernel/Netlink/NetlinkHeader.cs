using System.Buffers.Binary;

namespace TaskstatsActors.Kernel.Netlink;

/// <summary>The 16-byte <c>struct nlmsghdr</c> that starts every netlink message (host byte order).</summary>
public readonly record struct NetlinkHeader(uint Length, ushort Type, NetlinkFlags Flags, uint Sequence, uint PortId)
{
    /// <summary>Size of the header on the wire.</summary>
    public const int Size = 16;

    /// <summary>Reads a header; the caller has checked that <paramref name="source"/> holds at least <see cref="Size"/> bytes.</summary>
    public static NetlinkHeader Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadUInt16LittleEndian(source[4..]),
        (NetlinkFlags)BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[12..]));

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Length);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Type);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], PortId);
    }

    /// <summary>Rounds a length up to netlink's 4-byte alignment.</summary>
    public static int Align(int length) => (length + 3) & ~3;
}

/// <summary>Message types every netlink protocol shares (<c>NLMSG_*</c>).</summary>
public static class NetlinkMessageType
{
    public const ushort Noop = 1;
    public const ushort Error = 2;
    public const ushort Done = 3;
    public const ushort Overrun = 4;
}

/// <summary>The <c>NLM_F_*</c> flags.</summary>
[Flags]
public enum NetlinkFlags : ushort
{
    None = 0,
    Request = 1,
    Multi = 2,
    Ack = 4,
    Echo = 8,
}
