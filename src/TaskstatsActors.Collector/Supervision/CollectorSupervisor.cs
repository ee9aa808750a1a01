using System.Diagnostics;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Streams;
using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Listening;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Sinks;
using TaskstatsActors.Collector.Status;
using TaskstatsActors.Collector.Streaming;
using TaskstatsActors.Collector.Watchdog;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Collector.Supervision;

/// <summary>
/// The root of the collector: starts the sinks, the aggregator and the stream, then the watchdog and
/// one <see cref="ListenerActor"/> per shard. Restarts a faulting listener or sink (a bounded number
/// of times). On <see cref="CollectorProtocol.Shutdown"/> it stops the listeners (each deregisters
/// and drains into the stream), then lets the stream run dry so every sink flushes and stops, and
/// answers with the final figures.
/// </summary>
public sealed class CollectorSupervisor : ReceiveActor, IWithTimers
{
    private readonly CollectorSettings _settings;
    private readonly Func<INetlinkSocket> _open;
    private readonly Action<string>? _startFailed;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(ShardInfo Shard, ShardFigures Figures)> _shardFigures = [];
    private readonly List<SinkFigures> _sinkFigures = [];
    private readonly HashSet<IActorRef> _listeners = [];
    private readonly HashSet<IActorRef> _consumers = [];
    private Channel<CollectorEvent> _events = null!;
    private Channel<CollectorEvent> _summaries = null!;
    private IActorRef _aggregator = ActorRefs.Nobody;
    private CollectorSummary? _lastStatus;
    private IActorRef? _shutdownRequester;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>How often the figures go to the sinks as a <see cref="CollectorStatus"/> event.</summary>
    public static readonly TimeSpan FiguresInterval = TimeSpan.FromSeconds(5);

    public CollectorSupervisor(CollectorSettings settings, Func<INetlinkSocket> open, Action<string>? startFailed = null)
    {
        _settings = settings;
        _open = open;
        _startFailed = startFailed;
        Running();
    }

    /// <summary>
    /// Props for the supervisor; <paramref name="open"/> opens netlink sockets (a fake kernel's in tests).
    /// <paramref name="startFailed"/> is told why, in one line, if an Akka setting keeps the collector's
    /// actors from being created; the supervisor then stops.
    /// </summary>
    public static Props Props(CollectorSettings settings, Func<INetlinkSocket>? open = null, Action<string>? startFailed = null) =>
        Akka.Actor.Props.Create(() => new CollectorSupervisor(settings, open ?? NetlinkSocket.Open, startFailed));

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(maxNrOfRetries: 10, withinTimeRange: TimeSpan.FromMinutes(1), localOnlyDecider: _ => Directive.Restart);

    protected override void PreStart()
    {
        try
        {
            Start();
        }
        catch (ConfigurationException e)
        {
            // E.g. a dispatcher or mailbox named in akka.actor.deployment that is not defined. Stopping (not
            // failing) keeps Akka from logging a stack trace; the children made so far stop with this actor.
            _startFailed?.Invoke($"the collector could not start: {e.Message}. Define it, or remove the akka setting that names it.");
            Context.Stop(Self);
        }
    }

    private void Start()
    {
        _events = Channel.CreateBounded<CollectorEvent>(new BoundedChannelOptions(_settings.StreamBuffer)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        var summaries = _summaries = Channel.CreateBounded<CollectorEvent>(new BoundedChannelOptions(16) { SingleReader = true });

        var aggregator = _aggregator = Context.ActorOf(AggregatorActor.Props(
            new SinkContext("aggregator", ConfigurationFactory.Empty, _settings.Shards),
            _settings.AggregateWindow, _settings.AggregateTop, summaries.Writer), "aggregator");
        Context.Watch(aggregator);
        _consumers.Add(aggregator);
        var branches = new List<SinkBranch>();
        foreach (var sink in _settings.Sinks)
        {
            var context = new SinkContext(sink.Name, sink.Config, _settings.Shards);
            var actor = Context.ActorOf(Akka.Actor.Props.Create(sink.Type, context), $"sink-{sink.Name}");
            Context.Watch(actor);
            _consumers.Add(actor);
            var figures = new SinkFigures(sink.Name);
            _sinkFigures.Add(figures);
            branches.Add(new SinkBranch(actor, sink.Buffer, sink.Overflow, figures));
        }
        CollectorGraph.Build(_events.Reader, summaries.Reader, aggregator, branches).Run(Context.Materializer());

        var watchdog = Context.ActorOf(WatchdogActor.Props(_settings.Watchdog, _settings.ReceiveBuffer, _settings.MaxReceiveBuffer), "watchdog");
        var options = new ListenerOptions(_settings.ReceiveBuffer, _settings.BatchSize, _settings.PinListeners, _settings.BatchLinger, _settings.QuietLinger);
        var onlineCpus = _settings.Shards.Sum(shard => shard.Cpus.Count);
        foreach (var shard in _settings.Shards)
        {
            var figures = new ShardFigures();
            _shardFigures.Add((shard, figures));
            var wiring = new ShardWiring(shard, options, _open, _events.Writer, figures, new SequenceTracker(shard.Cpus.Count, onlineCpus));
            var listener = Context.ActorOf(ListenerActor.Props(wiring, watchdog), $"listener-{shard.Index}");
            Context.Watch(listener);
            _listeners.Add(listener);
        }
        if (_settings.StatusInterval > TimeSpan.Zero)
            Timers.StartPeriodicTimer("status", CollectorProtocol.StatusTick.Instance, _settings.StatusInterval);
        Timers.StartPeriodicTimer("figures", CollectorProtocol.FiguresTick.Instance, FiguresInterval);
    }

    private CollectorSummary Summary() => CollectorSummary.Take(_shardFigures, _sinkFigures, _clock.Elapsed);

    private void ConsumerGone(IActorRef consumer)
    {
        _consumers.Remove(consumer);
        // The aggregator completes its summaries itself when it flushes; if it died instead, the
        // sinks' stream must still be able to end.
        if (consumer.Equals(_aggregator))
            _summaries.Writer.TryComplete();
    }

    private void Running()
    {
        Receive<CollectorProtocol.GetSummary>(_ => Sender.Tell(Summary()));
        Receive<CollectorProtocol.StatusTick>(_ =>
        {
            var now = Summary();
            _log.Info(StatusLine.Format(_lastStatus ?? now with { Elapsed = TimeSpan.Zero, Shards = [] }, now));
            _lastStatus = now;
        });
        Receive<CollectorProtocol.FiguresTick>(_ =>
        {
            // Never wait here: when the stream is backpressured, skipping one report is harmless.
            _events.Writer.TryWrite(new CollectorStatus(Summary()));
        });
        Receive<CollectorProtocol.Shutdown>(_ =>
        {
            _shutdownRequester = Sender;
            Timers.Cancel("status");
            Timers.Cancel("figures");
            _log.Info("shutting down: deregistering {0} listeners and draining the stream", _listeners.Count);
            foreach (var listener in _listeners)
                listener.Tell(ListenerProtocol.Stop.Instance);
            Become(ShuttingDown);
            if (_listeners.Count == 0)
                _events.Writer.TryComplete();
        });
        Receive<Terminated>(terminated =>
        {
            // A child that gave up after its restarts: say what no longer works, keep the rest going.
            if (_listeners.Remove(terminated.ActorRef))
                _log.Error("{0} stopped after repeated faults: its CPUs are no longer heard", terminated.ActorRef.Path.Name);
            else if (_consumers.Contains(terminated.ActorRef))
            {
                ConsumerGone(terminated.ActorRef);
                _log.Error("{0} stopped after repeated faults: it receives nothing more", terminated.ActorRef.Path.Name);
            }
        });
    }

    private void ShuttingDown()
    {
        Receive<CollectorProtocol.GetSummary>(_ => Sender.Tell(Summary()));
        Receive<ListenerProtocol.Stopped>(_ => { });
        Receive<CollectorProtocol.StatusTick>(_ => { });
        Receive<CollectorProtocol.FiguresTick>(_ => { });
        Receive<Terminated>(terminated =>
        {
            if (_listeners.Remove(terminated.ActorRef) && _listeners.Count == 0)
                _events.Writer.TryComplete(); // the stream now drains to the sinks, which flush and stop
            ConsumerGone(terminated.ActorRef);
            if (_listeners.Count == 0 && _consumers.Count == 0)
            {
                var summary = Summary();
                _log.Info("collector stopped: {0} records, {1} lost", summary.Records, summary.Lost);
                _shutdownRequester?.Tell(new CollectorProtocol.ShutdownComplete(summary));
            }
        });
    }
}
