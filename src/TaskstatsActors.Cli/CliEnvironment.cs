using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Cli;

/// <summary>What the commands talk to: output streams and the kernel. Tests swap in writers and a fake kernel.</summary>
public sealed record CliEnvironment(TextWriter Out, TextWriter Error, Func<INetlinkSocket> OpenSocket)
{
    /// <summary>The real console and the real kernel.</summary>
    public static CliEnvironment Real => new(Console.Out, Console.Error, NetlinkSocket.Open);
}
