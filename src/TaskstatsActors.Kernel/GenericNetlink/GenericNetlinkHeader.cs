namespace TaskstatsActors.Kernel.GenericNetlink;

/// <summary>The 4-byte <c>struct genlmsghdr</c> after the netlink header: command and family version.</summary>
public readonly record struct GenericNetlinkHeader(byte Command, byte Version)
{
    /// <summary>Size on the wire (command, version, two reserved bytes).</summary>
    public const int Size = 4;

    /// <summary>Reads the header from the start of a netlink message payload.</summary>
    public static GenericNetlinkHeader Read(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < Size)
            throw new Netlink.NetlinkDecodeException($"generic netlink message has {payload.Length} payload bytes, too short for its 4-byte header");
        return new GenericNetlinkHeader(payload[0], payload[1]);
    }

    /// <summary>The header bytes to put after the netlink header.</summary>
    public ReadOnlySpan<byte> ToBytes() => new byte[] { Command, Version, 0, 0 };
}
