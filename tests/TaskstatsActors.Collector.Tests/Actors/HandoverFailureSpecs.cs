using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Status;
using TaskstatsActors.Kernel.Netlink;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>
/// A handover whose replacement socket fails to register (the kernel refuses its register request) faults the
/// listener, which restarts. The exits the handover had already drained from the old socket into memory were seen
/// by the sequence tracker, so the restart's sequence gap does not count them: they must reach the sinks before the
/// listener restarts, or they would be neither delivered nor counted lost. One shard (CPU 0): socket 0 is the first,
/// socket 1 the replacement that fails, socket 2 the one the restarted listener registers.
/// </summary>
public sealed class HandoverFailureSpecs : CollectorSpec
{
    private const int ReceiveBuffer = 4096;      // the fake grants twice this: 8 KiB, five exit messages
    private const int Dropped = 6;               // made past the full socket: the overflow that orders the handover
    private const int DrainedByHandover = 3;     // queued on the old socket as the handover opens the replacement
    private const int Unheard = 4;               // made while no socket is registered, as the restarted listener registers
    private const int ExitsAfterRestart = 5;

    public HandoverFailureSpecs(ITestOutputHelper output) : base(output) { }

    private sealed record FailedHandoverRun(
        SinkJournal Journal,
        HookedSocket First,
        HookedSocket Replacement,
        HookedSocket Restarted,
        IReadOnlyList<ExitKey> BeforeOverflow,
        IReadOnlyList<ExitKey> DrainedByHandover,
        int ListenersAtHandover,
        IReadOnlyList<ExitKey> Unheard,
        IReadOnlyList<ExitKey> AfterRestart,
        CollectorSummary Summary);

    /// <summary>
    /// Overflows the first socket so that the watchdog orders a handover; as the replacement opens, queues exits on
    /// the old socket (the handover drains them before the replacement registers); then the kernel refuses the
    /// replacement's register request. Waits for the listener to restart after that fault, makes exits on the new
    /// socket until the sink has them all, and shuts down.
    /// </summary>
    private FailedHandoverRun FailHandover()
    {
        var journal = NewJournal();
        var drained = new List<ExitKey>();
        var unheard = new List<ExitKey>();
        var listenersAtHandover = -1;
        Host.OnRequest = (socket, kind, _) =>
        {
            switch (socket.Index, kind)
            {
                // The replacement is open and resolves the family: exits now reach the old socket only, and the
                // handover drains them into memory before the replacement registers.
                case (1, RequestKind.ResolveFamily) when drained.Count == 0:
                    listenersAtHandover = Host.Kernel.ListenerCount(0);
                    drained.AddRange(Host.Exit(0, DrainedByHandover));
                    break;
                // Fault injected: the kernel refuses the replacement's register request...
                case (1, RequestKind.Register):
                    Host.Kernel.CommandErrno = Errno.EPERM;
                    break;
                // ...and that one only: the old socket's deregistration, sent right after it, goes through.
                case (0, RequestKind.Deregister):
                    Host.Kernel.CommandErrno = null;
                    break;
                // The old socket is gone and the restarted listener's is not registered yet: nobody hears these.
                case (2, RequestKind.Register) when unheard.Count == 0:
                    unheard.AddRange(Host.Exit(0, Unheard));
                    break;
            }
        };
        var collector = StartCollector(Settings([0], [journal.Settings("journal")], receiveBuffer: ReceiveBuffer, batchSize: 8));
        var first = Host.Sockets.Single();

        // The loop's next drain takes all that fits (a batch holds more) and reports the overflow.
        var kept = OverflowWhileParked(first, ReceiveBuffer, Dropped);

        Until(() => first.Inner.IsClosed && Host.Sockets.Count == 3 && Host.Sockets[2].Mask == "0" && Host.Kernel.ListenerCount(0) == 1,
            "the listener to restart after the failed handover on a new, registered socket");
        var after = Host.Exit(0, ExitsAfterRestart);
        Until(() => after.All(journal.Received.Contains), "the exits after the restart to reach the sink");

        var summary = ShutDown(collector);
        foreach (var entry in Host.Log)
            Note(entry.ToString());
        var sockets = Host.Sockets;
        return new FailedHandoverRun(journal, first, sockets[1], sockets[2], kept, drained,
            listenersAtHandover, unheard, after, summary);
    }

    [Fact]
    public void Exits_drained_before_the_replacement_fails_to_register_should_be_delivered_once_and_nothing_go_unaccounted()
    {
        var run = FailHandover();
        var received = run.Journal.Received.ToList();
        var shard = Assert.Single(run.Summary.Shards);
        Note($"made {Host.Exits.Count}, received {received.Count}, drained by the handover {run.DrainedByHandover.Count}, " +
             $"reported lost {run.Summary.Lost}: {string.Join(", ", run.Journal.Losses.Select(l => $"{l.Count} by {l.Source}"))}");

        // Every exit is delivered or counted lost: the failed handover's drained exits are not left out of both.
        Assert.Equal(Host.Exits.Count, received.Count + run.Summary.Lost);
        Assert.Empty(Repeated(received));

        // Those exits were queued on the old socket alone and delivered once, in order, before the restart.
        Assert.Equal(1, run.ListenersAtHandover);
        Assert.Equal(DrainedByHandover, run.DrainedByHandover.Count);
        Assert.All(run.DrainedByHandover, exit => Assert.Single(received, exit));
        Assert.Equal(run.BeforeOverflow.Concat(run.DrainedByHandover).Concat(run.AfterRestart), received);
        Assert.Equal(received.Count, shard.Messages);

        // What was lost is exactly the overflow's drops (by the socket's counter) and the unheard exits (by the
        // sequence gap across the restart): nothing of the handover itself, and nothing twice.
        Assert.Equal((uint)Dropped, run.First.DropCount);
        Assert.Equal(Unheard, run.Unheard.Count);
        Assert.Equal(Dropped, run.Journal.Losses.Where(l => l.Source == LossSource.SocketDropCounter).Sum(l => l.Count));
        Assert.Equal(Unheard, run.Journal.Losses.Where(l => l.Source == LossSource.SequenceGap).Sum(l => l.Count));
        Assert.Equal(Dropped + Unheard, run.Summary.Lost);
        Assert.Equal(Dropped + Unheard, shard.SequenceGaps);
        Assert.Equal(0, shard.Uncertain);
    }

    [Fact]
    public void A_listener_whose_replacement_fails_to_register_should_restart_after_the_fault_and_keep_delivering()
    {
        var run = FailHandover();
        var log = Host.Log;
        int At(string verb, HookedSocket socket) =>
            log.Single(e => e.Verb == verb && e.Port == socket.PortId).Position;

        // The replacement never registered and was closed at once; the old socket let go as the handover asked and
        // was closed as the listener restarted, before the restarted listener's socket registered.
        Assert.DoesNotContain(log, e => e.Verb == "register" && e.Port == run.Replacement.PortId);
        Assert.True(At("close", run.Replacement) < At("close", run.First));
        Assert.True(At("deregister", run.First) < At("close", run.First));
        Assert.True(At("close", run.First) < At("register", run.Restarted),
            $"the old socket must be closed before the restarted listener registers:\n{string.Join("\n", log)}");
        Assert.Equal("0", log.Single(e => e.Verb == "register" && e.Port == run.Restarted.PortId).Argument);

        // The sinks are told of one restart, after a fault that names the refused request; no handover completed.
        var restart = Assert.Single(run.Journal.Restarts);
        Assert.Equal(0, restart.Shard.Index);
        Assert.StartsWith("fault: ", restart.Reason);
        Assert.Contains("registering cpumask", restart.Reason);
        Assert.Contains("EPERM", restart.Reason);
        var shard = Assert.Single(run.Summary.Shards);
        Assert.Equal(1, shard.Restarts);
        Assert.Equal(1, shard.Overflows);

        // And it keeps delivering: every exit after the restart reaches the sink once, in order, last.
        Assert.Equal(run.AfterRestart, run.Journal.Received.TakeLast(ExitsAfterRestart));
        Assert.Equal(run.Journal.Received.Count, run.Journal.ReceivedAtFlush);
    }
}
