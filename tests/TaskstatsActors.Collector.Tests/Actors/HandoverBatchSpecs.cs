using TaskstatsActors.Collector.Events;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>
/// A handover or a shutdown that finds a deep queue on the socket it lets go of passes it on a batch at a time, as
/// the receive loop does: a socket's whole queue (up to <c>max-receive-buffer</c>, tens of thousands of exits) is
/// never held in memory at once. One shard (CPU 0), batches of <see cref="BatchSize"/>.
/// </summary>
public sealed class HandoverBatchSpecs : CollectorSpec
{
    private const int BatchSize = 4;
    private const int ReceiveBuffer = 64 * 1024; // the fake grants twice this: room for some 90 exit messages
    private const int Dropped = 6;               // made past the full socket: the overflow that orders the handover
    private const int QueuedAtHandover = 40;     // queued on the old socket as the replacement opens
    private const int QueuedAtShutdown = 30;     // queued as the listener is asked to stop

    public HandoverBatchSpecs(ITestOutputHelper output) : base(output) { }

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
