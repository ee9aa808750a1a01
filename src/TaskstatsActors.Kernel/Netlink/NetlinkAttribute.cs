using System.Buffers.Binary;
using System.Text;

namespace TaskstatsActors.Kernel.Netlink;

/// <summary>One netlink attribute (<c>struct nlattr</c> + payload), type flags masked off.</summary>
public readonly ref struct NetlinkAttribute
{
    /// <summary>Size of <c>struct nlattr</c>.</summary>
    public const int HeaderSize = 4;

    private const ushort TypeMask = 0x3fff; // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER

    /// <summary>Attribute type without the nested/byte-order flag bits.</summary>
    public ushort Type { get; }

    /// <summary>The payload, exactly <c>nla_len - 4</c> bytes.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    public NetlinkAttribute(ushort type, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Payload = payload;
    }

    /// <summary>Walks the attributes in <paramref name="source"/>; unknown types are the caller's to skip.</summary>
    public static NetlinkAttributeEnumerator Split(ReadOnlySpan<byte> source) => new(source);

    /// <summary>The payload as a u16, checking its size.</summary>
    public ushort GetUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Expect(2, "u16"));

    /// <summary>The payload as a u32, checking its size.</summary>
    public uint GetUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Expect(4, "u32"));

    /// <summary>The payload as a NUL-terminated string (the NUL and anything after it dropped).</summary>
    public string GetString()
    {
        var end = Payload.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? Payload : Payload[..end]);
    }

    private ReadOnlySpan<byte> Expect(int size, string what)
    {
        if (Payload.Length < size)
            throw new NetlinkDecodeException($"attribute {Type} should hold a {what} ({size} bytes) but has {Payload.Length}");
        return Payload[..size];
    }

    internal static ushort MaskType(ushort raw) => (ushort)(raw & TypeMask);
}

/// <summary>Walks attributes with bounds checks (see <see cref="NetlinkAttribute.Split"/>).</summary>
public ref struct NetlinkAttributeEnumerator
{
    private ReadOnlySpan<byte> _rest;
    private NetlinkAttribute _current;

    internal NetlinkAttributeEnumerator(ReadOnlySpan<byte> source)
    {
        _rest = source;
        _current = default;
    }

    public readonly NetlinkAttribute Current => _current;

    public readonly NetlinkAttributeEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.IsEmpty)
            return false;
        if (_rest.Length < NetlinkAttribute.HeaderSize)
            throw new NetlinkDecodeException($"attribute list ends with {_rest.Length} stray bytes, too short for a 4-byte attribute header");
        var length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
        var type = NetlinkAttribute.MaskType(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]));
        if (length < NetlinkAttribute.HeaderSize || length > _rest.Length)
            throw new NetlinkDecodeException($"attribute {type} claims length {length}, but {_rest.Length} bytes remain (minimum 4)");
        _current = new NetlinkAttribute(type, _rest[NetlinkAttribute.HeaderSize..length]);
        var next = NetlinkHeader.Align(length);
        // The last attribute may omit its padding; anything past it is simply the end.
        _rest = next >= _rest.Length ? ReadOnlySpan<byte>.Empty : _rest[next..];
        return true;
    }
}
