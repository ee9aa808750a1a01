using System.Buffers.Binary;
using System.Text;

namespace TaskstatsActors.Kernel.Netlink;

/// <summary>
/// Builds one netlink message: header, a fixed family header, then attributes (nested ones too).
/// Lengths are filled in by <see cref="ToArray"/>; requests are small and rare, so this one allocates.
/// </summary>
public sealed class NetlinkMessageWriter
{
    private byte[] _buffer = new byte[256];
    private int _length = NetlinkHeader.Size;
    private readonly Stack<int> _nests = new();
    private readonly ushort _type;
    private readonly NetlinkFlags _flags;

    /// <summary>Starts a message of the given type and flags.</summary>
    public NetlinkMessageWriter(ushort type, NetlinkFlags flags)
    {
        _type = type;
        _flags = flags;
    }

    /// <summary>Appends raw bytes (a family header such as <c>genlmsghdr</c>).</summary>
    public NetlinkMessageWriter Bytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        return this;
    }

    /// <summary>Appends an attribute with a raw payload.</summary>
    public NetlinkMessageWriter Attribute(ushort type, ReadOnlySpan<byte> payload)
    {
        var total = NetlinkAttribute.HeaderSize + payload.Length;
        var span = Reserve(NetlinkHeader.Align(total));
        BinaryPrimitives.WriteUInt16LittleEndian(span, checked((ushort)total));
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], type);
        payload.CopyTo(span[NetlinkAttribute.HeaderSize..]);
        return this;
    }

    /// <summary>Appends a u16 attribute.</summary>
    public NetlinkMessageWriter UInt16(ushort type, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        return Attribute(type, b);
    }

    /// <summary>Appends a u32 attribute.</summary>
    public NetlinkMessageWriter UInt32(ushort type, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return Attribute(type, b);
    }

    /// <summary>Appends a NUL-terminated string attribute.</summary>
    public NetlinkMessageWriter String(ushort type, string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return Attribute(type, bytes);
    }

    /// <summary>Opens a nested attribute; close it with <see cref="EndNested"/>.</summary>
    public NetlinkMessageWriter BeginNested(ushort type)
    {
        _nests.Push(_length);
        var span = Reserve(NetlinkAttribute.HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], (ushort)(type | 0x8000)); // NLA_F_NESTED
        return this;
    }

    /// <summary>Closes the innermost nested attribute, fixing its length.</summary>
    public NetlinkMessageWriter EndNested()
    {
        var start = _nests.Pop();
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), checked((ushort)(_length - start)));
        return this;
    }

    /// <summary>The finished message with the given sequence number and port id.</summary>
    public byte[] ToArray(uint sequence, uint portId = 0)
    {
        if (_nests.Count != 0)
            throw new InvalidOperationException("a nested attribute was not closed");
        var result = _buffer.AsSpan(0, _length).ToArray();
        new NetlinkHeader((uint)_length, _type, _flags, sequence, portId).Write(result);
        return result;
    }

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        var span = _buffer.AsSpan(_length, count);
        span.Clear();
        _length += count;
        return span;
    }
}
