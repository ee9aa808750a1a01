using System.Buffers.Binary;
using System.Text;

namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>
/// Writes a <see cref="TaskStats"/> in the exact byte layout of a given struct version, as a kernel of
/// that version would send it: for fixtures and fake kernels. The <c>version</c> field gets the version
/// asked for; a field the version has but the record leaves <c>null</c> is written as 0; fields the
/// version does not have are left out; padding is zero. Little-endian, like <see cref="TaskstatsDecoder"/>.
/// </summary>
public static class TaskstatsEncoder
{
    /// <summary>Encodes the record as struct version <paramref name="version"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The version is not 1 to <see cref="TaskstatsLayout.LatestVersion"/>.</exception>
    /// <exception cref="ArgumentException">The command name takes more than 32 bytes in UTF-8.</exception>
    public static byte[] Encode(TaskStats stats, int version)
    {
        var bytes = new byte[TaskstatsLayout.ForVersion(version).Size];
        Encode(stats, version, bytes);
        return bytes;
    }

    /// <summary>Encodes the record as struct version <paramref name="version"/> into <paramref name="destination"/>.</summary>
    /// <returns>The number of bytes written: the layout's size.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The version is not 1 to <see cref="TaskstatsLayout.LatestVersion"/>.</exception>
    /// <exception cref="ArgumentException">The destination is too small, or the command name is too long.</exception>
    public static int Encode(TaskStats stats, int version, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var layout = TaskstatsLayout.ForVersion(version);
        if (destination.Length < layout.Size)
            throw new ArgumentException($"struct taskstats v{version} needs {layout.Size} bytes, destination has {destination.Length}", nameof(destination));

        var target = destination[..layout.Size];
        target.Clear();
        foreach (var slot in layout.SlotSpan)
            Write(slot.Field, stats, target.Slice(slot.Offset, slot.Size));
        BinaryPrimitives.WriteUInt16LittleEndian(target, (ushort)version);
        return layout.Size;
    }

    private static void Write(TaskstatsField field, TaskStats stats, Span<byte> bytes)
    {
        switch (field.Kind)
        {
            case TaskstatsFieldKind.U8:
                bytes[0] = (byte)(stats.GetNumber(field) ?? 0);
                break;
            case TaskstatsFieldKind.U16:
                BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)(stats.GetNumber(field) ?? 0));
                break;
            case TaskstatsFieldKind.U32:
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)(stats.GetNumber(field) ?? 0));
                break;
            case TaskstatsFieldKind.U64:
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, stats.GetNumber(field) ?? 0);
                break;
            case TaskstatsFieldKind.Comm:
                WriteComm(stats.GetText(field) ?? string.Empty, bytes);
                break;
            case TaskstatsFieldKind.Timespec:
                var time = stats.GetTime(field) ?? default;
                BinaryPrimitives.WriteInt64LittleEndian(bytes, time.Seconds);
                BinaryPrimitives.WriteInt64LittleEndian(bytes[sizeof(long)..], time.Nanoseconds);
                break;
        }
    }

    private static void WriteComm(string comm, Span<byte> bytes)
    {
        // All 32 bytes may be used: the decoder stops at the field's end when there is no NUL.
        if (Encoding.UTF8.GetByteCount(comm) > bytes.Length)
            throw new ArgumentException($"ac_comm \"{comm}\" takes more than {bytes.Length} bytes in UTF-8", "stats");
        Encoding.UTF8.GetBytes(comm, bytes);
    }
}
