namespace TaskstatsActors.Kernel.Netlink;

/// <summary>
/// Raised when bytes from the kernel (or a capture) do not form a valid netlink message,
/// attribute or <c>struct taskstats</c>. Every decoder in this library throws this type and
/// never an out-of-range exception, so callers can count and skip a malformed message.
/// </summary>
public sealed class NetlinkDecodeException : Exception
{
    /// <summary>Creates the error with a message that names what was malformed.</summary>
    public NetlinkDecodeException(string message) : base(message) { }
}
