using TaskstatsActors.Collector.Events;
using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>A datagram that cannot be decoded is counted (malformed, and so lost) and the stream goes on.</summary>
public sealed class MalformedMessageSpecs : CollectorSpec
{
    public MalformedMessageSpecs(ITestOutputHelper output) : base(output) { }

    /// <summary>A header that claims 200 bytes in a 20-byte datagram.</summary>
    private static byte[] LyingLength()
    {
        var datagram = new byte[20];
        new NetlinkHeader(200, 31, NetlinkFlags.None, 0, 0).Write(datagram);
        return datagram;
    }

    /// <summary>A well-framed taskstats message whose AGGR_PID has a pid but no stats.</summary>
    private byte[] WithoutStats() =>
        new NetlinkMessageWriter(Host.Kernel.FamilyId, NetlinkFlags.None)
            .Bytes(new GenericNetlinkHeader(TaskstatsProtocol.CmdNew, 1).ToBytes())
            .BeginNested(TaskstatsProtocol.TypeAggrPid).UInt32(TaskstatsProtocol.TypePid, 4242).EndNested()
            .ToArray(0, 0);

    /// <summary>A well-framed taskstats message whose v16 struct is cut to 100 bytes.</summary>
    private byte[] TruncatedStats()
    {
        var stats = TaskstatsEncoder.Encode(ExitMessageBuilder.Stats(4243, "cut"), 16).AsSpan(0, 100).ToArray();
        return new NetlinkMessageWriter(Host.Kernel.FamilyId, NetlinkFlags.None)
            .Bytes(new GenericNetlinkHeader(TaskstatsProtocol.CmdNew, 1).ToBytes())
            .BeginNested(TaskstatsProtocol.TypeAggrPid)
            .UInt32(TaskstatsProtocol.TypePid, 4243)
            .Attribute(TaskstatsProtocol.TypeStats, stats)
            .EndNested()
            .ToArray(0, 0);
    }

    [Fact]
    public void Malformed_datagrams_should_be_counted_as_loss_and_the_stream_should_go_on()
    {
        var journal = NewJournal();
        var collector = StartCollector(Settings([0], [journal.Settings("journal")]));
        var socket = Host.Sockets.Single();

        var before = Host.Exit(0, 3);
        WaitForReceived(journal, before.Count);
        socket.Inner.Inject(LyingLength());
        socket.Inner.Inject(WithoutStats());
        socket.Inner.Inject(TruncatedStats());
        var after = Host.Exit(0, 3);
        WaitForReceived(journal, before.Count + after.Count);
        var summary = ShutDown(collector);

        Assert.Equal(before.Concat(after), journal.Received);
        Assert.All(journal.Losses, loss => Assert.Equal(LossSource.Malformed, loss.Source));
        Assert.Equal(3, journal.Losses.Sum(l => l.Count));
        var shard = Assert.Single(summary.Shards);
        Assert.Equal(3, shard.Malformed);
        Assert.Equal(3, shard.Lost);
        Assert.Equal(0, shard.SequenceGaps);
        Assert.Equal(0, shard.Restarts);
        Assert.Single(Host.Sockets); // no restart: the same socket throughout
    }
}
