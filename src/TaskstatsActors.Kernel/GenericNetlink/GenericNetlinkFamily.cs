namespace TaskstatsActors.Kernel.GenericNetlink;

/// <summary>A generic netlink family as <c>nlctrl</c> describes it.</summary>
/// <param name="Name">Family name, e.g. <c>TASKSTATS</c>.</param>
/// <param name="Id">The message type to use for requests to it.</param>
/// <param name="Version">The family's protocol version.</param>
/// <param name="MaxAttribute">Highest attribute number the family accepts.</param>
public sealed record GenericNetlinkFamily(string Name, ushort Id, uint Version, uint MaxAttribute);
