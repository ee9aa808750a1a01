using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Collector.Listening;

/// <summary>
/// One shard's listener. It owns its socket: opened and registered in <see cref="PreStart"/> by its
/// receive loop (a <see cref="ShardReceiver"/> running outside <c>Receive</c>), closed in
/// <see cref="PostStop"/>. Overflows go to the watchdog, which answers with
/// <see cref="ListenerProtocol.Replace"/>; a fault makes the actor throw, so its supervisor restarts
/// it with a fresh socket and the sequence gap across the restart is counted as loss.
/// </summary>
public sealed class ListenerActor : ReceiveActor
{
    private readonly ShardWiring _wiring;
    private readonly ShardInfo _shard;
    private readonly IActorRef _watchdog;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ShardReceiver? _receiver;
    private ListenerThreadScheduler? _thread;
    private IActorRef? _stopRequester;
    private bool _afterFault;
    private string? _faultReason;

    public ListenerActor(ShardWiring wiring, IActorRef watchdog)
    {
        _wiring = wiring;
        _shard = wiring.Shard;
        _watchdog = watchdog;

        Receive<ListenerProtocol.Replace>(replace => _receiver!.RequestReplace(replace.ReceiveBuffer));
        Receive<ListenerProtocol.Stop>(_ =>
        {
            _stopRequester = Sender;
            _receiver!.RequestStop();
        });
        // A loop of an instance before a restart may still report; only the current loop counts.
        Receive<ListenerProtocol.LoopFinished>(finished => finished.Loop == _receiver, _ =>
        {
            _stopRequester?.Tell(new ListenerProtocol.Stopped(_shard));
            Context.Stop(Self);
        });
        Receive<ListenerProtocol.LoopFailed>(failed => failed.Loop == _receiver, failed => throw new ListenerFaultException(_shard, failed.Cause));
        Receive<ListenerProtocol.LoopFailed>(_ => { });
        Receive<ListenerProtocol.LoopFinished>(_ => { });
    }

    /// <summary>Props for a listener.</summary>
    public static Props Props(ShardWiring wiring, IActorRef watchdog) =>
        Akka.Actor.Props.Create(() => new ListenerActor(wiring, watchdog));

    protected override void PreStart()
    {
        var self = Self;
        var loop = _receiver = new ShardReceiver(_wiring, new Observer(self, _shard, _watchdog, _log), _afterFault, _faultReason);
        var scheduler = _thread = new ListenerThreadScheduler(_wiring.Options.Pin ? _shard.Cpus : null, $"listener-{_shard.Index}");
        Task.Factory.StartNew(loop.RunAsync, CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler).Unwrap().ContinueWith(run => self.Tell(run.IsCompletedSuccessfully
                ? new ListenerProtocol.LoopFinished(loop)
                : new ListenerProtocol.LoopFailed(loop, run.Exception?.GetBaseException() ?? new OperationCanceledException("the receive loop was cancelled"))),
            TaskScheduler.Default);
        _log.Info("{0}: starting, receive buffer {1} bytes requested{2}", _shard, _wiring.Options.ReceiveBuffer,
            _wiring.Options.Pin ? ", receive loop pinned to its CPUs" : "");
    }

    protected override void PreRestart(Exception reason, object message)
    {
        // A stop asked for before the fault still stands for the next instance.
        if (_stopRequester is not null)
            Self.Tell(ListenerProtocol.Stop.Instance, _stopRequester);
        base.PreRestart(reason, message);
    }

    protected override void PostRestart(Exception reason)
    {
        _afterFault = true;
        _faultReason = reason.GetBaseException().Message;
        _wiring.Figures.AddRestart();
        _log.Warning("{0}: restarting after a fault: {1}", _shard, reason.Message);
        base.PostRestart(reason);
    }

    protected override void PostStop()
    {
        _receiver?.Dispose();
        _thread?.Dispose();
    }

    /// <summary>Carries the loop's reports to the watchdog, from the loop's thread.</summary>
    private sealed class Observer(IActorRef listener, ShardInfo shard, IActorRef watchdog, ILoggingAdapter log) : IReceiverObserver
    {
        public void Registered(int receiveBuffer) =>
            log.Info("{0}: registered, receive buffer {1} bytes granted", shard, receiveBuffer);

        public void Overflowed(long lost, int receiveBuffer) =>
            watchdog.Tell(new ListenerProtocol.Overflowed(shard, listener, lost, receiveBuffer), listener);

        public void Replaced(int receiveBuffer) =>
            watchdog.Tell(new ListenerProtocol.Replaced(shard, receiveBuffer), listener);
    }
}
