using Akka.Actor;
using Akka.Event;
using TaskstatsActors.Collector.Listening;
using TaskstatsActors.Collector.Settings;

namespace TaskstatsActors.Collector.Watchdog;

/// <summary>
/// Watches every listener for overflows. For each shard it counts incidents and, after a backoff,
/// tells the listener to replace its socket with one whose buffer is twice as large (up to
/// <c>max-receive-buffer</c>). The listener does the replacement make-before-break, so the restart
/// itself loses nothing; the loss that caused it has already been counted by the listener.
/// </summary>
public sealed class WatchdogActor : ReceiveActor, IWithTimers
{
    private readonly WatchdogSettings _settings;
    private readonly int _maxReceiveBuffer;
    private readonly Dictionary<int, ShardState> _shards = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;

    public WatchdogActor(WatchdogSettings settings, int initialReceiveBuffer, int maxReceiveBuffer)
    {
        _settings = settings;
        _maxReceiveBuffer = maxReceiveBuffer;

        Receive<ListenerProtocol.Overflowed>(overflow =>
        {
            var state = State(overflow.Shard, initialReceiveBuffer);
            state.Incidents++;
            state.Listener = overflow.Listener;
            if (state.RestartPending)
                return;
            state.RestartPending = true;
            var wait = state.Backoff.Next(DateTimeOffset.UtcNow);
            _log.Warning("{0}: receive buffer overflowed ({1} messages lost); replacing its socket in {2} ms",
                overflow.Shard, overflow.Lost, (int)wait.TotalMilliseconds);
            Timers.StartSingleTimer(overflow.Shard.Index, new WatchdogProtocol.RestartDue(overflow.Shard.Index), wait);
        });
        Receive<WatchdogProtocol.RestartDue>(due =>
        {
            var state = _shards[due.Shard];
            state.RequestedBuffer = (int)Math.Min((long)state.RequestedBuffer * 2, _maxReceiveBuffer);
            state.RestartsOrdered++;
            // Overflows during the handover itself start a new, longer backoff.
            state.RestartPending = false;
            state.Listener?.Tell(new ListenerProtocol.Replace(state.RequestedBuffer));
        });
        Receive<ListenerProtocol.Replaced>(replaced =>
        {
            _log.Info("{0}: socket replaced, receive buffer now {1} bytes", replaced.Shard, replaced.ReceiveBuffer);
        });
        Receive<WatchdogProtocol.GetReport>(_ => Sender.Tell(new WatchdogProtocol.Report(
            _shards.ToDictionary(pair => pair.Key, pair => new WatchdogProtocol.ShardWatch(
                pair.Value.Shard, pair.Value.Incidents, pair.Value.RestartsOrdered, pair.Value.RequestedBuffer)))));
    }

    /// <summary>Props for the watchdog.</summary>
    public static Props Props(WatchdogSettings settings, int initialReceiveBuffer, int maxReceiveBuffer) =>
        Akka.Actor.Props.Create(() => new WatchdogActor(settings, initialReceiveBuffer, maxReceiveBuffer));

    private ShardState State(Events.ShardInfo shard, int initialReceiveBuffer)
    {
        if (!_shards.TryGetValue(shard.Index, out var state))
            _shards[shard.Index] = state = new ShardState(shard, initialReceiveBuffer,
                new BackoffPolicy(_settings.MinBackoff, _settings.MaxBackoff, _settings.ResetAfter));
        return state;
    }

    private sealed class ShardState(Events.ShardInfo shard, int requestedBuffer, BackoffPolicy backoff)
    {
        public Events.ShardInfo Shard { get; } = shard;
        public BackoffPolicy Backoff { get; } = backoff;
        public int RequestedBuffer { get; set; } = requestedBuffer;
        public long Incidents { get; set; }
        public long RestartsOrdered { get; set; }
        public bool RestartPending { get; set; }
        public IActorRef? Listener { get; set; }
    }
}
