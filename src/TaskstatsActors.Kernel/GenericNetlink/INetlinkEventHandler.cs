using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.GenericNetlink;

/// <summary>
/// Receives what arrives on a socket while a request waits for its answer: broadcasts such as
/// exit records (which must not be thrown away) and overflow reports.
/// </summary>
public interface INetlinkEventHandler
{
    /// <summary>A message that is not the answer to the request in flight.</summary>
    void OnMessage(in NetlinkMessage message);

    /// <summary>The socket reported <c>ENOBUFS</c> while the request waited.</summary>
    void OnOverflow();
}
