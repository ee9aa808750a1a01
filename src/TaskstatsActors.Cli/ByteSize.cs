using System.Globalization;

namespace TaskstatsActors.Cli;

/// <summary>Parses byte counts as people write them: <c>212992</c>, <c>4M</c>, <c>64MiB</c>, <c>512k</c>.</summary>
public static class ByteSize
{
    /// <summary>The count in bytes, or an error message naming the bad text.</summary>
    public static bool TryParse(string text, out long bytes, out string? error)
    {
        var trimmed = text.Trim();
        var digits = 0;
        while (digits < trimmed.Length && char.IsAsciiDigit(trimmed[digits]))
            digits++;
        var unit = trimmed[digits..].Trim().ToLowerInvariant();
        long multiplier = unit switch
        {
            "" or "b" => 1,
            "k" or "kb" or "kib" => 1L << 10,
            "m" or "mb" or "mib" => 1L << 20,
            "g" or "gb" or "gib" => 1L << 30,
            _ => 0,
        };
        bytes = 0;
        error = null;
        if (digits == 0 || multiplier == 0 || !long.TryParse(trimmed.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            error = $"'{text}' is not a byte size (examples: 212992, 512K, 4M, 64MiB)";
            return false;
        }
        try
        {
            bytes = checked(number * multiplier);
            return true;
        }
        catch (OverflowException)
        {
            error = $"'{text}' is too large";
            return false;
        }
    }
}
