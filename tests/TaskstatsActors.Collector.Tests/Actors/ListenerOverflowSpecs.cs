using Akka.Actor;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Status;
using TaskstatsActors.Collector.Watchdog;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>
/// A listener whose socket overflows (the sink holds the stream, the stream holds the listener, the listener
/// stops reading) is replaced by the watchdog, make before break, and every lost record is counted exactly.
/// Two shards (CPU 0 and CPU 1); only shard 0 gets exits.
/// </summary>
public sealed class ListenerOverflowSpecs : CollectorSpec
{
    private const int ReceiveBuffer = 4096;      // the fake grants twice this: 8 KiB, five exit messages
    private const int DropsWanted = 10;
    private const int OverlapExits = 3;          // made while both sockets are registered
    private const int ExitsAfterReplacement = 10;

    public ListenerOverflowSpecs(ITestOutputHelper output) : base(output) { }

    private sealed record OverflowRun(
        SinkJournal Journal,
        HookedSocket First,
        HookedSocket Replacement,
        HookedSocket OtherShard,
        IReadOnlyList<ExitKey> BeforeRegistration,
        IReadOnlyList<ExitKey> Overlap,
        int ListenersDuringOverlap,
        IReadOnlyList<ExitKey> AfterReplacement,
        WatchdogProtocol.ShardWatch Watch,
        CollectorSummary Summary);

    /// <param name="overlapExits">Exits made while both sockets are registered.</param>
    /// <param name="duringOverlap">Done to the old socket and the replacement as the overlap starts, before those exits.</param>
    /// <param name="beforeRegistrationExits">Exits made as the replacement is about to register (they reach the old socket only).</param>
    private OverflowRun OverflowAndReplace(int overlapExits = OverlapExits, Action<HookedSocket, HookedSocket>? duringOverlap = null, int beforeRegistrationExits = 0)
    {
        var journal = NewJournal();
        var settings = Settings([0, 1], [journal.Settings("journal", buffer: 1)],
            receiveBuffer: ReceiveBuffer, batchSize: 4, streamBuffer: 1, minBackoff: TimeSpan.FromMilliseconds(500));

        var beforeRegistration = new List<ExitKey>();
        var overlap = new List<ExitKey>();
        var listenersDuringOverlap = -1;
        Host.OnRequest = (socket, kind, mask) =>
        {
            if (kind == RequestKind.Register && mask == "0" && Host.SocketsOf("0").Count == 2 && beforeRegistration.Count == 0)
                beforeRegistration.AddRange(Host.Exit(0, beforeRegistrationExits));
            // The old socket is about to deregister while the new one is registered: exits now reach both.
            if (kind == RequestKind.Deregister && mask == "0" && Host.Kernel.ListenerCount(0) == 2 && overlap.Count == 0)
            {
                listenersDuringOverlap = Host.Kernel.ListenerCount(0);
                duringOverlap?.Invoke(Host.SocketsOf("0")[0], Host.SocketsOf("0")[1]);
                overlap.AddRange(Host.Exit(0, overlapExits));
            }
        };

        var collector = StartCollector(settings);
        var first = Host.SocketsOf("0").Single();
        var otherShard = Host.SocketsOf("1").Single();

        // The sink holds its first batch, so the stream fills: feed it one exit at a time until the listener
        // stops taking them from its socket (it waits on the full stream), then overflow the socket.
        journal.Close();
        var absorbed = FeedUntilTheListenerWaits(first, 0);
        Assert.True(journal.Holding);
        var made = 0;
        while (first.DropCount < DropsWanted && first.DropsWhenReplaced is null)
        {
            Host.Exit(0);
            Assert.True(++made < 100_000, "the socket never overflowed");
        }
        Note($"the held stream took {absorbed} exits; then {made} more made, {first.DropCount} of them dropped by the socket");
        journal.Open();

        // The handover ends after the old socket closes (the new one's duplicates are checked, its buffer set): the
        // restart it reports last is what says it is over.
        Until(() => first.Inner.IsClosed && !journal.Restarts.IsEmpty, "the watchdog to replace the overflowed socket");
        var replacement = Host.SocketsOf("0")[1];

        // Records still arrive after the replacement, through the new socket (one at a time: no new overflow).
        var after = new List<ExitKey>();
        for (var i = 0; i < ExitsAfterReplacement; i++)
        {
            var exit = Host.Exit(0);
            after.Add(exit);
            Until(() => journal.Received.Contains(exit), $"{exit} to reach the sink");
        }

        var watchdog = Sys.ActorSelection(collector.Path / "watchdog").ResolveOne(Patience).GetAwaiter().GetResult();
        var report = watchdog.Ask<WatchdogProtocol.Report>(WatchdogProtocol.GetReport.Instance, Patience).GetAwaiter().GetResult();
        var summary = ShutDown(collector);
        foreach (var entry in Host.Log)
            Note(entry.ToString());
        return new OverflowRun(journal, first, replacement, otherShard, beforeRegistration, overlap, listenersDuringOverlap, after, report.Shards[0], summary);
    }

    [Fact]
    public void An_overflowed_listener_should_be_replaced_make_before_break_with_a_doubled_buffer()
    {
        var run = OverflowAndReplace();
        var log = Host.Log;
        int At(string verb, HookedSocket socket) =>
            log.First(e => e.Verb == verb && e.Port == socket.PortId).Position;

        // Make before break: the replacement is open, sized and registered before the old socket lets go.
        Assert.True(At("register", run.First) < At("open", run.Replacement));
        Assert.True(At("open", run.Replacement) < At("rcvbuf", run.Replacement));
        Assert.True(At("rcvbuf", run.Replacement) < At("register", run.Replacement));
        Assert.True(At("register", run.Replacement) < At("deregister", run.First),
            $"the replacement must register before the old socket deregisters:\n{string.Join("\n", log)}");
        Assert.True(At("deregister", run.First) < At("close", run.First));
        Assert.Equal("0", log.Single(e => e.Verb == "register" && e.Port == run.Replacement.PortId).Argument);
        Assert.Equal("0", log.Single(e => e.Verb == "deregister" && e.Port == run.First.PortId).Argument);
        Assert.Equal(2, run.ListenersDuringOverlap);

        // The other shard's socket is left alone until the shutdown.
        Assert.True(At("deregister", run.OtherShard) > At("close", run.First));
        Assert.Equal(2, Host.Sockets.Count(s => s.Mask == "0"));

        // The new buffer is twice the old one, as requested, granted and reported. During the handover
        // both sockets have a far larger one, so that neither drops anything there.
        var oldSizes = log.Where(e => e.Verb == "rcvbuf" && e.Port == run.First.PortId).ToList();
        Assert.Equal(2, oldSizes.Count);
        Assert.True(int.Parse(oldSizes[1].Argument!) >= 64 << 20);
        Assert.True(oldSizes[1].Position < At("register", run.Replacement));
        // And its congestion is ended, or it would drop everything until its queue was empty.
        Assert.True(At("no-enobufs", run.First) < At("register", run.Replacement));
        var oldGranted = int.Parse(oldSizes[0].Argument!);
        var replacementSizes = log.Where(e => e.Verb == "rcvbuf" && e.Port == run.Replacement.PortId).ToList();
        Assert.Equal(2, replacementSizes.Count);
        Assert.True(int.Parse(replacementSizes[0].Argument!) >= 64 << 20);
        Assert.True(replacementSizes[1].Position > At("deregister", run.First));
        var newGranted = int.Parse(replacementSizes[1].Argument!);
        Assert.Equal(2 * ReceiveBuffer, oldGranted);
        Assert.Equal(2 * oldGranted, newGranted);
        Assert.Equal(1, run.Watch.RestartsOrdered);
        Assert.True(run.Watch.Incidents >= 1);
        Assert.Equal(2 * ReceiveBuffer, run.Watch.RequestedBuffer);
        var restart = Assert.Single(run.Journal.Restarts);
        Assert.Equal(0, restart.Shard.Index);
        Assert.Equal(newGranted, restart.ReceiveBuffer);
        Assert.Equal("overflow", restart.Reason);

        var shard = run.Summary.Shards.Single(s => s.Shard.Index == 0);
        Assert.Equal(1, shard.Restarts);
        Assert.True(shard.Overflows >= 1);
        Assert.Equal(newGranted, shard.ReceiveBuffer);
        Assert.Equal(0, run.Summary.Shards.Single(s => s.Shard.Index == 1).Restarts);

        // Records still arrive after the replacement.
        Assert.All(run.AfterReplacement, exit => Assert.Contains(exit, run.Journal.Received));
    }

    [Fact]
    public void Lost_records_should_be_counted_exactly_and_overlap_duplicates_delivered_once()
    {
        var run = OverflowAndReplace();
        var made = Host.Exits.Where(e => e.Shard == 0).ToList();
        var received = run.Journal.Received.ToList();
        var shard = run.Summary.Shards.Single(s => s.Shard.Index == 0);

        // What the fake kernel dropped, and which socket had to count it: the old one up to the moment
        // the replacement registered, the replacement after that.
        var dropped = Host.SocketsOf("0").Sum(s => (long)s.AccountableDrops);
        Note($"made {made.Count}, received {received.Count}, dropped {dropped} " +
             $"(first socket {run.First.DropCount}, {run.First.AccountableDrops} before the handover; replacement {run.Replacement.DropCount}), " +
             $"duplicates {shard.Duplicates}, uncertain {shard.Uncertain}");
        Assert.True(dropped >= DropsWanted);

        // Loss events sum to exactly the drops; so do the summary and the sequence-number cross-check.
        Assert.All(run.Journal.Losses, loss => Assert.Equal(LossSource.SocketDropCounter, loss.Source));
        Assert.All(run.Journal.Losses, loss => Assert.Equal(0, loss.Shard.Index));
        Assert.Equal(dropped, run.Journal.Losses.Sum(l => l.Count));
        Assert.Equal(dropped, shard.Lost);
        Assert.Equal(dropped, run.Summary.Lost);
        Assert.Equal(dropped, shard.SequenceGaps);
        Assert.Equal(0, shard.Uncertain);

        // Every exit is either delivered exactly once or counted lost, never both, never neither.
        Assert.Empty(Repeated(received));
        Assert.Subset(made.ToHashSet(), received.ToHashSet()); // received ⊆ made
        Assert.Equal(made.Count, received.Count + dropped);
        Assert.Equal(received.Count, shard.Messages);
        Assert.Equal(received.Count, run.Journal.ReceivedAtFlush);

        // The overlap's exits reached both sockets (where the old one had room) and were delivered once.
        Assert.Equal(OverlapExits, run.Overlap.Count);
        Assert.All(run.Overlap, exit => Assert.Single(received, exit));
        var overlapDroppedByOld = run.First.DropCount - run.First.AccountableDrops;
        Assert.Equal(OverlapExits - overlapDroppedByOld, shard.Duplicates);

        Assert.Equal(0, run.Summary.Shards.Single(s => s.Shard.Index == 1).Lost);
    }

    [Fact]
    public void An_overlap_longer_than_the_new_buffer_holds_should_lose_nothing()
    {
        // The replacement's own buffer holds ten exits and the old one's five: thirty exits in the overlap
        // (as when the listener is preempted between its two requests) reach both sockets, which have
        // room for the handover, and are delivered once.
        const int LongOverlap = 30;
        var run = OverflowAndReplace(LongOverlap);
        var received = run.Journal.Received.ToList();
        var shard = run.Summary.Shards.Single(s => s.Shard.Index == 0);

        Assert.Equal(LongOverlap, run.Overlap.Count);
        Assert.All(run.Overlap, exit => Assert.Single(received, exit));
        Assert.Equal(run.First.AccountableDrops, run.First.DropCount);
        Assert.Equal(0u, run.Replacement.DropCount);
        Assert.Equal(LongOverlap, shard.Duplicates);
        AssertExactlyAccounted(run, received, shard);
    }

    [Fact]
    public void Drops_of_the_new_socket_in_the_overlap_should_be_counted_as_uncertain()
    {
        // Fault injected: the replacement has no room during the overlap, so it drops exits that the old
        // socket delivers. Which ones cannot be told apart from real loss, so the count may exceed the
        // true loss, but never by more than what is said to be uncertain.
        var run = OverflowAndReplace(OverlapExits, (_, replacement) => replacement.Inner.SetReceiveBuffer(1));
        var made = Host.Exits.Count(e => e.Shard == 0);
        var received = run.Journal.Received.ToList();
        var shard = run.Summary.Shards.Single(s => s.Shard.Index == 0);
        var trueLoss = made - received.Count;
        Note($"made {made}, received {received.Count}, counted lost {shard.Lost}, uncertain {shard.Uncertain}");

        Assert.Empty(Repeated(received));
        Assert.Equal(OverlapExits, (long)run.Replacement.DropCount);
        Assert.Equal(OverlapExits, shard.Uncertain);
        Assert.InRange(shard.Lost, trueLoss, trueLoss + shard.Uncertain);
        Assert.True(shard.Lost > trueLoss, "the old socket delivered part of the overlap");
    }

    [Fact]
    public void Exits_just_before_the_replacement_registers_should_reach_the_old_socket_and_be_delivered()
    {
        // Twenty exits after the old socket's last drain and before the new one registers (as when the listener
        // is preempted there) reach only the old socket. Its own buffer holds five; it has room for the handover.
        const int Late = 20;
        var run = OverflowAndReplace(beforeRegistrationExits: Late);
        var received = run.Journal.Received.ToList();
        var shard = run.Summary.Shards.Single(s => s.Shard.Index == 0);

        Assert.Equal(Late, run.BeforeRegistration.Count);
        Assert.All(run.BeforeRegistration, exit => Assert.Single(received, exit));
        AssertExactlyAccounted(run, received, shard);
    }

    [Fact]
    public void An_old_socket_that_overflows_in_the_overlap_should_still_deliver_what_it_had_queued()
    {
        // Fault injected: twenty exits wait on the old socket when the replacement registers; then the old
        // socket has no room and drops the overlap's exits (the replacement has them). Its next receive
        // reports that overflow before anything queued, and the drain must go on past it to the twenty.
        const int Queued = 20;
        var run = OverflowAndReplace(OverlapExits, (old, _) => old.Inner.SetReceiveBuffer(1), beforeRegistrationExits: Queued);
        var received = run.Journal.Received.ToList();
        var shard = run.Summary.Shards.Single(s => s.Shard.Index == 0);
        Note($"old socket dropped {run.First.DropCount}, {run.First.AccountableDrops} of them before the handover; lost {shard.Lost}");

        Assert.True(run.First.DropCount > run.First.AccountableDrops, "the old socket dropped exits in the overlap");
        Assert.All(run.BeforeRegistration, exit => Assert.Single(received, exit));
        Assert.All(run.Overlap, exit => Assert.Single(received, exit));
        AssertExactlyAccounted(run, received, shard);
    }

    /// <summary>
    /// Every exit of shard 0 delivered once or counted lost, and the loss exactly what the old socket dropped
    /// before the handover: nothing of the handover itself is lost or uncertain.
    /// </summary>
    private void AssertExactlyAccounted(OverflowRun run, List<ExitKey> received, ShardSnapshot shard)
    {
        Assert.Empty(Repeated(received));
        Assert.Equal(run.First.AccountableDrops, shard.Lost);
        Assert.Equal(Host.Exits.Count(e => e.Shard == 0), received.Count + shard.Lost);
        Assert.Equal(0, shard.Uncertain);
    }
}
