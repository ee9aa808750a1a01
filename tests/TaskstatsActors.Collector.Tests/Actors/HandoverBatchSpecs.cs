using TaskstatsActors.Collector.Events;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>
/// A handover or a shutdown that finds a deep queue on the socket it lets go of passes it to the sinks a batch at a
/// time, as the receive loop does. At shutdown the socket is deregistered and its queue is never held in memory whole.
/// A handover ends the old socket's congestion and leaves its queue in the socket until the new one has registered.
/// One shard (CPU 0), batches of <see cref="BatchSize"/>.
/// </summary>
public sealed class HandoverBatchSpecs : CollectorSpec
{
    private const int BatchSize = 4;
    private const int ReceiveBuffer = 64 * 1024; // the fake grants twice this: room for some 90 exit messages
    private const int Dropped = 6;               // made past the full socket: the overflow that orders the handover
    private const int QueuedAtHandover = 40;     // queued on the old socket as the replacement opens
    private const int QueuedAtShutdown = 30;     // queued as the listener is asked to stop

    private const int AtRegister = 10;           // made as the replacement registers: they reach the old socket alone
    private const int InOverlap = 3;             // made while both sockets are registered

    public HandoverBatchSpecs(ITestOutputHelper output) : base(output) { }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_handover_ordered_while_the_old_socket_is_still_congested_should_end_the_congestion_before_the_replacement_registers(bool roomDenied)
    {
        // As in the kernel, a socket that overflowed drops every exit, room or not, until a receive leaves its queue
        // empty. The handover starts with the old socket's queue still deep behind its overflow, so the exits made
        // as the replacement registers are lost unless the congestion is ended first; counted as lost and as
        // uncertain where some of them also reach the replacement. Where the kernel will not grow the old socket's
        // buffer (roomDenied), its queue is taken into memory for room, and reaches the sinks first.
        var journal = NewJournal();
        var atRegister = new List<ExitKey>();
        var inOverlap = new List<ExitKey>();
        Host.OnRequest = (socket, kind, _) =>
        {
            switch (socket.Index, kind)
            {
                case (1, RequestKind.Register) when atRegister.Count == 0:
                    atRegister.AddRange(Host.Exit(0, AtRegister));
                    break;
                case (0, RequestKind.Deregister) when inOverlap.Count == 0:
                    inOverlap.AddRange(Host.Exit(0, InOverlap));
                    break;
            }
        };
        var collector = StartCollector(Settings([0], [journal.Settings("journal")], receiveBuffer: ReceiveBuffer, batchSize: BatchSize));
        var first = Host.Sockets.Single();
        if (roomDenied)
            first.Inner.MaxGrant = 2 * ReceiveBuffer;

        var (kept, held) = OverflowAndHoldUntilTheHandoverIsOrdered(first);
        Until(() => first.Inner.IsClosed && !journal.Restarts.IsEmpty, "the handover to a new socket");

        var summary = ShutDown(collector);
        var received = journal.Received.ToList();
        var shard = Assert.Single(summary.Shards);
        Note($"held with {held.QueuedBytes} bytes queued; made {Host.Exits.Count}, received {received.Count}; first socket dropped " +
             $"{first.DropCount}; lost {summary.Lost}, uncertain {shard.Uncertain}, duplicates {shard.Duplicates}");

        held.AssertDeepWhenOrdered();
        Assert.Equal(AtRegister, atRegister.Count);
        Assert.Equal(InOverlap, inOverlap.Count);
        Assert.Equal(kept.Concat(atRegister).Concat(inOverlap), received);
        Assert.Equal((uint)Dropped, first.DropCount);
        Assert.Equal(Dropped, summary.Lost);
        Assert.Equal(0, shard.Uncertain);
        Assert.Equal(InOverlap, shard.Duplicates);
        Assert.All(journal.BatchSizes, size => Assert.InRange(size, 1, BatchSize));
    }

    /// <summary>Where the receive loop was held, and whether the handover's order reached it there.</summary>
    private sealed class HeldLoop
    {
        public int QueuedBytes { get; set; } = -1;
        public bool OrderReached { get; set; }

        public void AssertDeepWhenOrdered()
        {
            Assert.True(OrderReached, "the watchdog's order never reached the receive loop");
            Assert.True(QueuedBytes > BatchSize * FakeHost.MessageCost, "the queue was not deep when the handover was ordered");
        }
    }

    /// <summary>
    /// Overflows <paramref name="first"/> while its loop is parked. The loop then reads the overflow (which makes the
    /// watchdog order the handover) and is held at the first message behind it until the order has reached it; the
    /// rest of the queue is still there, and the socket congested, when the handover starts. Returns the exits the
    /// socket queued.
    /// </summary>
    private (List<ExitKey> Kept, HeldLoop Held) OverflowAndHoldUntilTheHandoverIsOrdered(HookedSocket first)
    {
        var held = new HeldLoop();
        first.AfterReceive = _ =>
        {
            if (held.QueuedBytes >= 0 || first.DropCount == 0)
                return;
            held.QueuedBytes = (int)first.QueuedBytes;
            held.OrderReached = first.LoopWake!.WhenSet.Wait(Patience);
        };
        return (OverflowWhileParked(first, ReceiveBuffer, Dropped), held);
    }

    [Fact]
    public void A_deep_queue_at_a_handover_and_at_shutdown_should_go_to_the_sinks_a_batch_at_a_time_each_exit_once()
    {
        var journal = NewJournal();
        var atHandover = new List<ExitKey>();
        var atShutdown = new List<ExitKey>();
        Host.OnRequest = (socket, kind, _) =>
        {
            switch (socket.Index, kind)
            {
                // The replacement is open: these reach the old socket alone, and wait there for the handover.
                case (1, RequestKind.ResolveFamily) when atHandover.Count == 0:
                    atHandover.AddRange(Host.Exit(0, QueuedAtHandover));
                    break;
                // The listener is about to let go of its socket at shutdown: these wait there for the last drain.
                case (1, RequestKind.Deregister) when atShutdown.Count == 0:
                    atShutdown.AddRange(Host.Exit(0, QueuedAtShutdown));
                    break;
            }
        };
        var collector = StartCollector(Settings([0], [journal.Settings("journal")], receiveBuffer: ReceiveBuffer, batchSize: BatchSize));
        var first = Host.Sockets.Single();

        var kept = OverflowWhileParked(first, ReceiveBuffer, Dropped);
        Until(() => first.Inner.IsClosed && Host.Sockets.Count == 2 && Host.Kernel.ListenerCount(0) == 1, "the handover to a new socket");
        Until(() => atHandover.All(journal.Received.Contains), "the exits queued at the handover to reach the sink");

        var summary = ShutDown(collector);
        var received = journal.Received.ToList();
        var sizes = journal.BatchSizes.ToList();
        Note($"made {Host.Exits.Count}, received {received.Count} in {sizes.Count} batches of {string.Join(" ", sizes)}; lost {summary.Lost}");

        // Each exit once, in order; only the overflow's drops are lost.
        Assert.Equal(QueuedAtHandover, atHandover.Count);
        Assert.Equal(QueuedAtShutdown, atShutdown.Count);
        Assert.Equal(kept.Concat(atHandover).Concat(atShutdown), received);
        Assert.Equal(Dropped, summary.Lost);
        Assert.Equal(Host.Exits.Count, received.Count + summary.Lost);
        Assert.Equal(1, Assert.Single(summary.Shards).Restarts);

        // A batch at a time: the queues of 40 and 30 came in batches no larger than the loop's own.
        Assert.All(sizes, size => Assert.InRange(size, 1, BatchSize));
    }
}
