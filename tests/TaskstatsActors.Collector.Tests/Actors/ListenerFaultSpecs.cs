using TaskstatsActors.Collector.Events;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>
/// A socket fault makes the listener throw; its supervisor restarts it with a new socket. Between the old
/// socket's close and the new one's registration the shard's CPU is unheard: the per-CPU sequence numbers
/// say exactly how many exits were missed (one-CPU shard), and that count is reported as loss.
/// </summary>
public sealed class ListenerFaultSpecs : CollectorSpec
{
    private const int Unheard = 7;

    public ListenerFaultSpecs(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void Exits_made_while_no_socket_is_registered_after_a_fault_should_be_lost_as_an_exact_sequence_gap()
    {
        var journal = NewJournal();
        var (unheard, listenersMeanwhile) = MakeExitsWhileTheRestartRegisters(Unheard);
        var collector = StartCollector(Settings([0], [journal.Settings("journal")]));
        var first = Host.Sockets.Single();

        var before = Host.Exit(0, 5);
        WaitForReceived(journal, before.Count);
        first.Inner.FailNextReceive(new IOException("injected socket fault"));
        AwaitRestart(first);
        var after = Host.Exit(0, 5);
        WaitForReceived(journal, before.Count + after.Count);
        var summary = ShutDown(collector);

        Assert.Equal(0, listenersMeanwhile());
        Assert.Equal(Unheard, unheard.Count);
        var loss = Assert.Single(journal.Losses);
        Assert.Equal(LossSource.SequenceGap, loss.Source);
        Assert.Equal(Unheard, loss.Count);
        Assert.Equal(0, loss.Shard.Index);

        var shard = Assert.Single(summary.Shards);
        Assert.Equal(Unheard, shard.Lost);
        Assert.Equal(Unheard, shard.SequenceGaps);
        Assert.Equal(1, shard.Restarts);
        Assert.Equal(0, shard.Overflows);

        // Everything heard is delivered once, in order; what was not heard is exactly what was counted.
        Assert.Equal(before.Concat(after), journal.Received);
        Assert.Equal(Host.Exits.Count, journal.Received.Count + summary.Lost);

        // A fault restart is break-before-make (that is why the gap exists): the old socket is closed first.
        var log = Host.Log;
        Assert.True(log.Single(e => e.Verb == "close" && e.Port == first.PortId).Position <
                    log.Single(e => e.Verb == "register" && e.Port == Host.Sockets[1].PortId).Position);
    }

    /// <summary>
    /// The receive loop drains a wake-up's messages into one batch; when the socket faults halfway, what the
    /// batch already holds was received and must not vanish. (ShardReceiver.RunAsync lets the fault escape
    /// DrainAsync with the batch unpublished, and the tracker has already seen those sequence numbers, so
    /// they are neither delivered nor counted lost.)
    /// </summary>
    [Fact]
    public void Messages_drained_before_a_socket_fault_should_still_reach_the_sinks()
    {
        var journal = NewJournal();
        var collector = StartCollector(Settings([0], [journal.Settings("journal")], batchSize: 64));
        var first = Host.Sockets.Single();

        var early = Host.Exit(0, 2);
        WaitForReceived(journal, early.Count);
        // Queue five exits and then the fault behind the loop's back: its next wake-up drains all five, then faults.
        Park(first);
        var queued = Host.Exit(0, 5);
        first.Inner.FailNextReceive(new IOException("injected socket fault"));
        first.Unpark();
        AwaitRestart(first);
        var late = Host.Exit(0, 3);
        Until(() => late.All(journal.Received.Contains), "the exits after the restart to reach the sink");
        var summary = ShutDown(collector);

        Note($"made {Host.Exits.Count}, received {journal.Received.Count}, lost {summary.Lost}");
        // Every exit is delivered or counted lost...
        Assert.Equal(Host.Exits.Count, journal.Received.Count + summary.Lost);
        // ...and these were all received from the socket, so all are delivered.
        Assert.Equal(early.Concat(queued).Concat(late), journal.Received);
        Assert.Equal(0, summary.Lost);
    }

    /// <summary>
    /// Drops the socket's counter already reported are not to be reported again when the sequence gap they
    /// leave is seen only after a fault restart. (The first message after the restart shows one gap: the
    /// counted drops plus the unheard exits; ShardReceiver reports all of it as SequenceGap loss.)
    /// </summary>
    [Fact]
    public void Drops_already_counted_should_not_be_counted_again_as_a_sequence_gap_after_a_fault()
    {
        var journal = NewJournal();
        var (unheard, _) = MakeExitsWhileTheRestartRegisters(Unheard);
        // Batches of one: every received message is published before the next receive, so the fault cannot
        // take a batch with it; the watchdog waits long enough not to replace anything during the test.
        var collector = StartCollector(Settings([0], [journal.Settings("journal")],
            receiveBuffer: 4096, batchSize: 1, minBackoff: TimeSpan.FromSeconds(60)));
        var first = Host.Sockets.Single();

        var early = Host.Exit(0, 2);
        WaitForReceived(journal, early.Count);
        Park(first);
        var fits = 2 * 4096 / FakeHost.MessageCost;
        var burst = Host.Exit(0, fits + 6);
        Assert.Equal(6u, first.DropCount);
        first.Inner.FailNextReceive(new IOException("injected socket fault"));
        first.Unpark();
        AwaitRestart(first);
        var late = Host.Exit(0, 4);
        Until(() => late.All(journal.Received.Contains), "the exits after the restart to reach the sink");
        var summary = ShutDown(collector);

        var reallyLost = first.DropCount + unheard.Count;
        Note($"made {Host.Exits.Count}, received {journal.Received.Count}, dropped {first.DropCount}, unheard {unheard.Count}, " +
             $"reported lost {summary.Lost}: {string.Join(", ", journal.Losses.Select(l => $"{l.Count} by {l.Source}"))}");
        Assert.Equal(early.Concat(burst.Take(fits)).Concat(late), journal.Received);
        Assert.Equal(reallyLost, journal.Losses.Sum(l => l.Count));
        Assert.Equal(reallyLost, summary.Lost);
        Assert.Equal(Host.Exits.Count, journal.Received.Count + summary.Lost);
    }
}
