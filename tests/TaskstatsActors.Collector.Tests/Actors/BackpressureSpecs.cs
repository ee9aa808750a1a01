using TaskstatsActors.Collector.Settings;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>
/// A slow sink slows the stream and, through it, the listener: what the collector holds stays bounded by its
/// buffers, and the rest waits in (or overflows) the socket, where the watchdog path takes over. A sink whose
/// policy is <c>drop</c> does not slow anybody: it loses records for itself alone and counts them.
/// </summary>
public sealed class BackpressureSpecs : CollectorSpec
{
    public BackpressureSpecs(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void A_slow_sink_should_backpressure_to_the_socket_with_bounded_memory()
    {
        const int batchSize = 4, streamBuffer = 2, sinkBuffer = 4, exits = 5000;
        var journal = NewJournal();
        var collector = StartCollector(Settings([0], [journal.Settings("slow", buffer: sinkBuffer)],
            batchSize: batchSize, streamBuffer: streamBuffer));
        var first = Host.Sockets.Single();

        // The sink holds its first batch; the stream fills until the listener waits on it.
        journal.Close();
        var taken = FeedUntilTheListenerWaits(first, 0);
        Assert.True(journal.Holding);
        var held = Summary(collector).Shards.Single().Messages;

        // In flight between socket and sink, in batches: the one the listener holds while it waits, the
        // listener's channel, one on each of the five connections of the fused graph on the sink's path, the
        // sink's own buffer, the buffer Sink.ActorRefWithAck keeps (16 by default), the one the sink handles,
        // and a little slack. Nothing here grows with the number of exits. (Measured: 23-29 batches of one.)
        var bound = (1 + streamBuffer + 5 + sinkBuffer + 16 + 1 + 2) * batchSize;
        Assert.InRange(held, 1, bound);

        // A burst now: the listener takes none of it (nothing grows in the collector); the socket fills and drops the rest.
        var made = Host.Exit(0, exits);
        var budget = 2 * 64 * 1024;
        var fits = budget / FakeHost.MessageCost;
        Note($"the held stream took {taken} exits ({held} messages, bound {bound}); after {exits} more, " +
             $"{first.QueuedBytes} bytes queued in the socket (budget {budget}), {first.DropCount} dropped");
        Assert.Equal(held, Summary(collector).Shards.Single().Messages);
        Assert.InRange(first.QueuedBytes, (uint)(budget - FakeHost.MessageCost + 1), (uint)budget);
        Assert.Equal((uint)(exits + 1 - fits), first.DropCount);

        // Let go: everything taken or queued arrives, and everything else is counted lost.
        journal.Open();
        Until(() => journal.Received.Count + Summary(collector).Lost == Host.Exits.Count, "every exit to be delivered or counted lost");
        var summary = ShutDown(collector);
        var dropped = Host.SocketsOf("0").Sum(s => (long)s.AccountableDrops);
        Assert.Equal(dropped, summary.Lost);
        Assert.Empty(Repeated(journal.Received));
        Assert.Equal(Host.Exits.Count, journal.Received.Count + summary.Lost);
        Assert.Subset(Host.Exits.ToHashSet(), journal.Received.ToHashSet());
    }

    [Fact]
    public void A_slow_sink_with_overflow_drop_should_not_slow_the_others_and_its_drops_should_be_counted()
    {
        const int exits = 2000;
        var slow = NewJournal();
        var fast = NewJournal();
        var collector = StartCollector(Settings([0],
            [slow.Settings("slow", buffer: 2, overflow: SinkOverflow.Drop), fast.Settings("fast", buffer: 16)],
            receiveBuffer: 4 << 20, batchSize: 8));
        var socket = Host.Sockets.Single();

        slow.Close();
        var made = Host.Exit(0, exits);
        // The other sink gets everything while the slow one holds its first batch.
        WaitForReceived(fast, exits);
        Assert.True(slow.Holding);
        var during = Summary(collector);
        slow.Open();
        var summary = ShutDown(collector);

        var slowDropped = summary.Sinks.Single(s => s.Name == "slow").DroppedRecords;
        Note($"slow sink: {slow.Received.Count} received, {slowDropped} dropped; fast sink: {fast.Received.Count}");
        Assert.Equal(made, fast.Received);
        Assert.Equal(0, summary.Sinks.Single(s => s.Name == "fast").DroppedRecords);
        Assert.True(slowDropped > 0);
        Assert.Equal(slowDropped, during.Sinks.Single(s => s.Name == "slow").DroppedRecords);
        Assert.Empty(Repeated(slow.Received));
        Assert.Subset(made.ToHashSet(), slow.Received.ToHashSet());
        Assert.Equal(exits, slow.Received.Count + slowDropped);
        // The listener never waited for the slow sink: nothing was lost at the socket.
        Assert.Equal(0u, socket.DropCount);
        Assert.Equal(0, summary.Lost);
        Assert.Contains($"sink slow: {slowDropped} records dropped", summary.Format());
    }
}
