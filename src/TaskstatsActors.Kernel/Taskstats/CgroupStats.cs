using System.Buffers.Binary;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.Taskstats;

/// <summary><c>struct cgroupstats</c>: how many tasks of a cgroup are in each state.</summary>
public sealed record CgroupStats(ulong Sleeping, ulong Running, ulong Stopped, ulong Uninterruptible, ulong IoWait)
{
    /// <summary>Size of the struct on the wire (five u64).</summary>
    public const int Size = 40;

    /// <summary>Decodes the struct; a short payload is a <see cref="NetlinkDecodeException"/>.</summary>
    public static CgroupStats Decode(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < Size)
            throw new NetlinkDecodeException($"struct cgroupstats needs {Size} bytes, got {payload.Length}");
        return new CgroupStats(
            BinaryPrimitives.ReadUInt64LittleEndian(payload),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[32..]));
    }
}
