namespace TaskstatsActors.Kernel.Netlink;

/// <summary>One netlink message inside a received datagram: its header and the bytes after it.</summary>
public readonly ref struct NetlinkMessage
{
    /// <summary>The message header.</summary>
    public NetlinkHeader Header { get; }

    /// <summary>The bytes after the header, exactly <c>nlmsg_len - 16</c> long.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    public NetlinkMessage(NetlinkHeader header, ReadOnlySpan<byte> payload)
    {
        Header = header;
        Payload = payload;
    }

    /// <summary>
    /// Splits a datagram into messages. Every length is checked against what is left, so a
    /// lying <c>nlmsg_len</c> gives a <see cref="NetlinkDecodeException"/>, never a read past the end.
    /// </summary>
    public static NetlinkMessageEnumerator Split(ReadOnlySpan<byte> datagram) => new(datagram);
}

/// <summary>Walks the messages of one datagram (see <see cref="NetlinkMessage.Split"/>).</summary>
public ref struct NetlinkMessageEnumerator
{
    private ReadOnlySpan<byte> _rest;
    private NetlinkMessage _current;

    internal NetlinkMessageEnumerator(ReadOnlySpan<byte> datagram)
    {
        _rest = datagram;
        _current = default;
    }

    public readonly NetlinkMessage Current => _current;

    public readonly NetlinkMessageEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.IsEmpty)
            return false;
        if (_rest.Length < NetlinkHeader.Size)
            throw new NetlinkDecodeException($"netlink datagram ends with {_rest.Length} stray bytes, too short for a 16-byte message header");
        var header = NetlinkHeader.Read(_rest);
        if (header.Length < NetlinkHeader.Size || header.Length > _rest.Length)
            throw new NetlinkDecodeException($"netlink message claims length {header.Length}, but {_rest.Length} bytes remain (minimum 16)");
        var length = (int)header.Length;
        _current = new NetlinkMessage(header, _rest[NetlinkHeader.Size..length]);
        var next = NetlinkHeader.Align(length);
        _rest = next >= _rest.Length ? ReadOnlySpan<byte>.Empty : _rest[next..];
        return true;
    }
}
