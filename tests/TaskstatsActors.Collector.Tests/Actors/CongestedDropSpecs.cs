using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Status;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>
/// A socket that overflowed is congested until a receive leaves its queue empty: the kernel drops every message
/// meanwhile and reports ENOBUFS once, so a single drain can receive past drops that the drop counter is read for
/// only when the drain ends (or, if the socket faults first, never). Those drops
/// must be counted once: neither left as credit that a later fault restart's gap is then paid with, nor
/// forgotten when the drain fails.
/// </summary>
public sealed class CongestedDropSpecs : CollectorSpec
{
    private const int Unheard = 7;

    public CongestedDropSpecs(ITestOutputHelper output) : base(output) { }

    /// <summary>
    /// Fills the parked socket so that 3 exits are dropped (ENOBUFS pending), then, from inside the drain that
    /// follows, makes 2 more, which the congested socket drops though its queue has room by then, and one more
    /// once the drain has emptied the queue: queued behind the drops, their gap shows in that drain, before the
    /// counter is read. Returns the exits the socket queued (the ones that must be delivered).
    /// </summary>
    private List<ExitKey> CongestThenDropInsideTheDrain(HookedSocket socket, bool faultRightAfter)
    {
        var fits = 2 * 4096 / FakeHost.MessageCost;
        Park(socket);
        var queued = Host.Exit(0, fits + 3).Take(fits).ToList();
        Assert.Equal(3u, socket.DropCount);
        var (first, emptied) = (true, false);
        socket.AfterReceive = _ =>
        {
            // The drain's first receive is the ENOBUFS; these come after the messages behind it.
            if (first)
            {
                first = false;
                Host.Exit(0, 2);                           // both dropped, with no ENOBUFS: the socket is congested
            }
            else if (!emptied && socket.QueuedBytes == 0)
            {
                emptied = true;
                queued.Add(Host.Exit(0));                  // the queue is empty, the congestion over: queued behind the drops
                if (faultRightAfter)
                    socket.Inner.FailNextReceive(new IOException("injected socket fault"));
            }
        };
        socket.Unpark();
        return queued;
    }

    /// <summary>
    /// Congests the socket as <see cref="CongestThenDropInsideTheDrain"/> does, then lets a socket fault restart the
    /// listener (in that drain, or in a later one), with exits nobody hears while the replacement registers. Checks
    /// that every exit heard is delivered once and in order, and that made = delivered + reported lost.
    /// </summary>
    private (SinkJournal Journal, CollectorSummary Summary) CongestThenRestart(bool faultInTheCongestedDrain)
    {
        var journal = NewJournal();
        var (unheard, _) = MakeExitsWhileTheRestartRegisters(Unheard);
        // A drain takes everything queued; the watchdog does not replace the socket during the test.
        var collector = StartCollector(Settings([0], [journal.Settings("journal")],
            receiveBuffer: 4096, batchSize: 256, minBackoff: TimeSpan.FromSeconds(60)));
        var first = Host.Sockets.Single();
        var early = Host.Exit(0, 2);
        WaitForReceived(journal, early.Count);

        var queued = CongestThenDropInsideTheDrain(first, faultInTheCongestedDrain);
        if (!faultInTheCongestedDrain)
        {
            // The congested drain ends and its counter is read; then a fault restarts the listener.
            WaitForReceived(journal, early.Count + queued.Count);
            first.AfterReceive = null;
            first.Inner.FailNextReceive(new IOException("injected socket fault"));
        }
        AwaitRestart(first);
        var late = Host.Exit(0, 3);
        Until(() => late.All(journal.Received.Contains), "the exits after the restart to reach the sink");
        var summary = ShutDown(collector);

        Note($"made {Host.Exits.Count}, received {journal.Received.Count}, dropped {first.DropCount}, unheard {unheard.Count}, " +
             $"reported lost {summary.Lost}: {string.Join(", ", journal.Losses.Select(l => $"{l.Count} by {l.Source}"))}");
        Assert.Equal(5u, first.DropCount);
        Assert.Equal(Unheard, unheard.Count);
        Assert.Equal(early.Concat(queued).Concat(late), journal.Received);
        Assert.Equal(Host.Exits.Count, journal.Received.Count + summary.Lost);
        return (journal, summary);
    }

    [Fact]
    public void Drops_seen_as_a_gap_before_the_counter_reported_them_should_not_pay_for_a_later_restarts_gap()
    {
        var (journal, summary) = CongestThenRestart(faultInTheCongestedDrain: false);

        Assert.Equal(5, journal.Losses.Where(l => l.Source == LossSource.SocketDropCounter).Sum(l => l.Count));
        Assert.Equal(Unheard, journal.Losses.Where(l => l.Source == LossSource.SequenceGap).Sum(l => l.Count));
        Assert.Equal(5 + Unheard, summary.Lost);
    }

    [Fact]
    public void Drops_seen_as_a_gap_in_a_drain_that_then_faults_should_still_be_counted()
    {
        var (journal, summary) = CongestThenRestart(faultInTheCongestedDrain: true);

        Assert.Equal(5, journal.Losses.Where(l => l.Source == LossSource.SocketDropCounter).Sum(l => l.Count));
        Assert.Equal(5 + Unheard, summary.Lost);
    }
}
