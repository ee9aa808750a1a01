using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
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
/// every host this runs on (x86-64, arm64). Decoding copies the payload into the record a few byte ranges
/// at a time (one for versions 16 and 17; see <see cref="TaskstatsLayout"/>) and allocates the record
/// only: command names come from a small cache (<see cref="CommNames"/>).
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

        var comm = layout.CommOffset < 0 ? null : CommNames.Decode(payload.Slice(layout.CommOffset, TaskstatsLayout.CommLength));
        stats = new TaskStats(layout, payload, comm);
        error = null;
        return true;
    }
}
