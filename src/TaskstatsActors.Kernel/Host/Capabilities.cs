using System.Globalization;

namespace TaskstatsActors.Kernel.Host;

/// <summary>The process's effective capabilities, read from <c>/proc/self/status</c>.</summary>
public static class Capabilities
{
    /// <summary>Bit number of <c>CAP_NET_ADMIN</c>, which taskstats commands need (<c>GENL_ADMIN_PERM</c>).</summary>
    public const int NetAdmin = 12;

    /// <summary>True when the effective set holds <paramref name="capability"/>.</summary>
    public static bool HasEffective(int capability, string statusPath = "/proc/self/status")
    {
        foreach (var line in File.ReadLines(statusPath))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal) &&
                ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask))
                return (mask & (1UL << capability)) != 0;
        }
        return false;
    }

    /// <summary>True when this process holds <c>CAP_NET_ADMIN</c>.</summary>
    public static bool HasNetAdmin() => HasEffective(NetAdmin);
}
