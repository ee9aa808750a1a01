using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks;

namespace TaskstatsActors.Collector.Aggregation;

/// <summary>
/// Sums the stream's exit records over time windows and writes a <see cref="WindowSummary"/> per window to a
/// channel, which the graph merges into the sinks' stream. Plugs into the stream like any sink.
/// </summary>
/// <remarks>
/// Windows close on wall-clock multiples of the window length (a 10 s window closes at :00, :10, …), so
/// summaries from several hosts line up; the first window is between half and one and a half windows long.
/// When the stream ends, the partial window is written and the channel completed, so the merged summary
/// stream ends too. Writing never blocks the actor: when the channel is full the summary is dropped,
/// counted and logged.
/// </remarks>
public sealed class AggregatorActor : TaskstatsSink, IWithTimers
{
    private readonly TimeSpan _window;
    private readonly int _top;
    private readonly int _maxKeys;
    private readonly ChannelWriter<CollectorEvent> _summaries;
    private readonly TimeProvider _clock;
    private WindowAccumulator _accumulator = null!;
    private long _dropped;

    /// <summary>Creates the aggregator.</summary>
    /// <param name="context">Its name and config, as for a sink.</param>
    /// <param name="window">Length of a window.</param>
    /// <param name="top">How many groups each top-N list keeps (<c>aggregate.top</c>).</param>
    /// <param name="summaries">Where summaries go; the aggregator is its only writer and completes it at the end.</param>
    /// <param name="maxKeys">Most distinct keys per grouping in one window.</param>
    /// <param name="clock">The wall clock; tests may pass their own.</param>
    public AggregatorActor(
        SinkContext context,
        TimeSpan window,
        int top,
        ChannelWriter<CollectorEvent> summaries,
        int maxKeys = WindowAccumulator.DefaultMaxKeys,
        TimeProvider? clock = null)
        : base(context)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _window = window;
        _top = top;
        _maxKeys = maxKeys;
        _summaries = summaries;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Props for <see cref="AggregatorActor"/>; see the constructor for the parameters.</summary>
    public static Props Props(
        SinkContext context,
        TimeSpan window,
        int top,
        ChannelWriter<CollectorEvent> summaries,
        int maxKeys = WindowAccumulator.DefaultMaxKeys,
        TimeProvider? clock = null) =>
        Akka.Actor.Props.Create(() => new AggregatorActor(context, window, top, summaries, maxKeys, clock));

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Summaries dropped so far because the channel was full (or already completed).</summary>
    internal long Dropped => _dropped;

    protected override void OnStart()
    {
        // After a restart the unfinished window's figures are gone; the next summary starts from here.
        _accumulator = new WindowAccumulator(_top, _clock.GetUtcNow(), _maxKeys);
        ScheduleClose();
    }

    protected override void OnRecords(ExitBatch batch) => _accumulator.Add(batch);

    protected override void OnLoss(RecordsLost loss) => _accumulator.AddLoss(loss.Count);

    protected override void OnFlush()
    {
        Timers.CancelAll();
        Emit(_accumulator.Close(_clock.GetUtcNow()));
        _summaries.TryComplete();
        if (_dropped > 0)
            Log.Warning("aggregator {0}: {1} window summaries were dropped because the summary channel was full", Sink.Name, _dropped);
    }

    protected override void Unhandled(object message)
    {
        // TaskstatsSink answers the stream's messages; anything else (our timer) arrives here.
        if (message is CloseWindow)
        {
            Emit(_accumulator.Close(_clock.GetUtcNow()));
            ScheduleClose();
            return;
        }
        base.Unhandled(message);
    }

    private void ScheduleClose()
    {
        // A single timer re-armed to the next boundary each time does not drift as a periodic one would.
        // Aiming half a window ahead means a tick that fires a little early or late still lands on the
        // following boundary rather than producing a sliver of a window.
        var now = _clock.GetUtcNow();
        var next = NextBoundary(now + _window / 2, _window);
        Timers.StartSingleTimer(CloseWindow.Instance, CloseWindow.Instance, next - now);
    }

    private void Emit(WindowSummaryData data)
    {
        if (_summaries.TryWrite(new WindowSummary(data)))
            return;
        _dropped++;
        Log.Warning("aggregator {0}: summary channel full, dropped the window {1} – {2} ({3} exits); {4} dropped so far",
            Sink.Name, data.Start.ToString("O"), data.End.ToString("O"), data.Exits, _dropped);
    }

    /// <summary>The first multiple of <paramref name="window"/> since the Unix epoch strictly after <paramref name="time"/>.</summary>
    internal static DateTimeOffset NextBoundary(DateTimeOffset time, TimeSpan window)
    {
        var sinceEpoch = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var next = (sinceEpoch / window.Ticks + 1) * window.Ticks;
        return new DateTimeOffset(DateTimeOffset.UnixEpoch.UtcTicks + next, TimeSpan.Zero);
    }

    /// <summary>Timer message: close the current window.</summary>
    private sealed class CloseWindow
    {
        public static readonly CloseWindow Instance = new();
        private CloseWindow() { }
    }
}
