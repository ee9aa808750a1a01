using System.Text;

namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>
/// Turns <c>ac_comm</c> bytes into a string, handing out the same string again for the same bytes: a host
/// runs few distinct commands, so a storm of exits would otherwise allocate the same few names over and over.
/// </summary>
/// <remarks>
/// A direct-mapped cache of 1024 entries by a hash of the bytes; a collision or a race between threads only
/// costs a decode (a slot holds one immutable string, written and read whole). Names that are not plain
/// ASCII are decoded every time.
/// </remarks>
internal static class CommNames
{
    private const int Slots = 1024;

    private static readonly string?[] Cache = new string?[Slots];

    /// <summary>The command name in a <c>ac_comm</c> field: up to the first NUL, or all of it when there is none.</summary>
    public static string Decode(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        var name = end < 0 ? field : field[..end];
        if (name.IsEmpty)
            return string.Empty;
        if (!Ascii.IsValid(name))
            return Encoding.UTF8.GetString(name);

        var hash = new HashCode();
        hash.AddBytes(name);
        ref var slot = ref Cache[hash.ToHashCode() & (Slots - 1)];
        var cached = slot;
        if (cached is not null && Ascii.Equals(name, cached))
            return cached;
        var text = Encoding.ASCII.GetString(name);
        slot = text;
        return text;
    }
}
