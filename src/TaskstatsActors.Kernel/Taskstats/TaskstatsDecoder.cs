using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>
/// Decodes the payload of a <c>TASKSTATS_TYPE_STATS</c> attribute into a <see cref="TaskStats"/>,
/// choosing the layout by the struct's <c>version</c> (the <c>__u16</c> at offset 0). A version newer
/// than <see cref="TaskstatsLayout.LatestVersion"/> decodes as that version (the struct only grows at
/// its end) and the bytes after it are ignored. Fields the version does not have stay <c>null</c>.
/// </summary>
/// <remarks>
/// The struct is in the sender's byte order; it is read as little-endian, which is the byte order of
/// every host this runs on (x86-64, arm64). Allocates the record and the command name, nothing else.
/// </remarks>
public static class TaskstatsDecoder
{
    /// <summary>Decodes one <c>struct taskstats</c>.</summary>
    /// <exception cref="NetlinkDecodeException">
    /// The payload is too short for its version, or the version is 0.
    /// </exception>
    public static TaskStats Decode(ReadOnlySpan<byte> payload) =>
        TryDecode(payload, out var stats, out var error) ? stats : throw new NetlinkDecodeException(error);

    /// <summary>Decodes one <c>struct taskstats</c>, or says why it cannot.</summary>
    /// <param name="payload">The attribute payload.</param>
    /// <param name="stats">The record, when the result is true.</param>
    /// <param name="error">What is wrong with the payload, when the result is false.</param>
    public static bool TryDecode(ReadOnlySpan<byte> payload,
        [NotNullWhen(true)] out TaskStats? stats, [NotNullWhen(false)] out string? error)
    {
        stats = null;
        if (payload.Length < sizeof(ushort))
        {
            error = $"struct taskstats payload of {payload.Length} bytes is too short to hold its version";
            return false;
        }
        var version = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        if (!TaskstatsLayout.TryForDecoding(version, out var layout))
        {
            error = $"struct taskstats version {version} is not a valid version";
            return false;
        }
        if (payload.Length < layout.Size)
        {
            var seenAs = version == layout.Version ? "" : $" (decoded as version {layout.Version})";
            error = $"struct taskstats version {version}{seenAs} needs {layout.Size} bytes, payload has {payload.Length}";
            return false;
        }

        stats = new TaskStats { PayloadLength = payload.Length };
        foreach (var slot in layout.SlotSpan)
            Read(slot.Field, payload.Slice(slot.Offset, slot.Size), stats);
        error = null;
        return true;
    }

    private static void Read(TaskstatsField field, ReadOnlySpan<byte> bytes, TaskStats stats)
    {
        switch (field.Kind)
        {
            case TaskstatsFieldKind.U8:
                field.SetNumber!(stats, bytes[0]);
                break;
            case TaskstatsFieldKind.U16:
                field.SetNumber!(stats, BinaryPrimitives.ReadUInt16LittleEndian(bytes));
                break;
            case TaskstatsFieldKind.U32:
                field.SetNumber!(stats, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
                break;
            case TaskstatsFieldKind.U64:
                field.SetNumber!(stats, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
                break;
            case TaskstatsFieldKind.Comm:
                field.SetText!(stats, ReadComm(bytes));
                break;
            case TaskstatsFieldKind.Timespec:
                field.SetTime!(stats, new KernelTimespec(
                    BinaryPrimitives.ReadInt64LittleEndian(bytes),
                    BinaryPrimitives.ReadInt64LittleEndian(bytes[sizeof(long)..])));
                break;
        }
    }

    // The kernel NUL-terminates comm, but a full field without a NUL must not be read past.
    private static string ReadComm(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.IndexOf((byte)0);
        var name = end < 0 ? bytes : bytes[..end];
        return name.IsEmpty ? string.Empty : Encoding.UTF8.GetString(name);
    }
}
