using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;

namespace TaskstatsActors.Collector.Hosting;

/// <summary>
/// Akka's scheduler on .NET's timer queue: every scheduled item has a timer of its own that fires when the item is
/// due, and nothing wakes up in between. Chosen with <c>akka.scheduler.implementation</c>.
/// </summary>
/// <remarks>
/// Akka's default scheduler, the hashed wheel, ticks every <c>akka.scheduler.tick-duration</c> whether anything is
/// due or not, and each tick wakes a timer thread and a pool thread. The collector's own timers are seconds apart, so
/// with nothing to collect those ticks were most of its CPU (BENCHMARKS.md, seventh round).
/// <para>
/// The contract is the wheel's: an item runs on a pool thread, never before its delay has passed; a repeated item
/// waits its interval after each run, so its runs never overlap, and it stops after a run that throws (the exception
/// is logged); a cancelled item does not run again. When the actor system terminates it disposes the scheduler, and
/// every item still pending then runs once, as the wheel does, so that an ask waiting for its timeout fails instead
/// of hanging.
/// </para>
/// </remarks>
public sealed class TimerQueueScheduler : SchedulerBase, IDateTimeOffsetNowTimeProvider, IDisposable
{
    // The longest wait a timer takes in one go (ITimer's limit is 0xfffffffe ms); a longer delay is waited in parts.
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(40);

    /// <summary>The HOCON line that makes an actor system use this scheduler.</summary>
    public static string ConfigLine { get; } =
        $"akka.scheduler.implementation = \"{typeof(TimerQueueScheduler).FullName}, {typeof(TimerQueueScheduler).Assembly.GetName().Name}\"";

    // The monotonic clocks count from here (Akka's own clock is internal to it).
    private static readonly long Origin = Stopwatch.GetTimestamp();

    private readonly ConcurrentDictionary<Item, byte> _pending = new();
    private volatile bool _disposed;

    /// <summary>Called by the actor system with its <c>akka.scheduler</c> config.</summary>
    public TimerQueueScheduler(Config scheduler, ILoggingAdapter log) : base(scheduler, log)
    {
    }

    /// <inheritdoc />
    protected override DateTimeOffset TimeNow => DateTimeOffset.Now;

    /// <inheritdoc />
    public override TimeSpan MonotonicClock => Stopwatch.GetElapsedTime(Origin);

    /// <inheritdoc />
    public override TimeSpan HighResMonotonicClock => Stopwatch.GetElapsedTime(Origin);

    /// <summary>Items scheduled and neither finished nor cancelled.</summary>
    public int Pending => _pending.Count;

    /// <inheritdoc />
    protected override void InternalScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Schedule(delay, null, () => receiver.Tell(message, sender), cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message,
        IActorRef sender, ICancelable cancelable) =>
        Schedule(initialDelay, interval, () => receiver.Tell(message, sender), cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleOnce(TimeSpan delay, Action action, ICancelable cancelable) =>
        Schedule(delay, null, action, cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleOnce(TimeSpan delay, IRunnable action, ICancelable cancelable) =>
        Schedule(delay, null, action.Run, cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable cancelable) =>
        Schedule(initialDelay, interval, action, cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, IRunnable action, ICancelable cancelable) =>
        Schedule(initialDelay, interval, action.Run, cancelable);

    private void Schedule(TimeSpan delay, TimeSpan? interval, Action work, ICancelable? cancelable)
    {
        if (_disposed)
            throw new SchedulerException("cannot schedule: the scheduler has shut down");
        if (cancelable?.IsCancellationRequested == true)
            return;
        var item = new Item(this, work, interval, cancelable);
        _pending.TryAdd(item, 0);
        item.Start(delay);
        // Disposal may have taken its list of pending items while this one was being added.
        if (_disposed && _pending.TryRemove(item, out _) && item.Stop())
            throw new SchedulerException("cannot schedule: the scheduler has shut down");
    }

    /// <summary>Stops every timer and runs each item still pending once.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (var item in _pending.Keys)
        {
            if (!_pending.TryRemove(item, out _) || !item.Stop())
                continue;
            try
            {
                item.RunLast();
            }
            catch (SchedulerException)
            {
                // A tell to an actor of the terminated system.
            }
            catch (Exception e)
            {
                Log.Error(e, "a scheduled task failed while the scheduler shut down");
            }
        }
    }

    private void Failed(Exception e) => Log.Error(e, "a scheduled task failed; it will not run again");

    /// <summary>One scheduled item: its work, its timer and where it stands.</summary>
    private sealed class Item
    {
        private readonly TimerQueueScheduler _owner;
        private readonly Action _work;
        private readonly TimeSpan? _interval;
        private readonly ICancelable? _cancelable;
        private readonly ITimer _timer;
        private CancellationTokenRegistration _registration;
        // Guards _stopped and the timer: a stop, a cancel, a run and a re-arm can race.
        private readonly Lock _gate = new();
        private bool _stopped;
        private TimeSpan _dueAt;

        public Item(TimerQueueScheduler owner, Action work, TimeSpan? interval, ICancelable? cancelable)
        {
            _owner = owner;
            _work = work;
            _interval = interval;
            _cancelable = cancelable;
            // Unarmed until Start: the callback cannot run before the item is complete. Like the wheel's thread, the
            // timer does not carry the scheduling caller's execution context (its async locals) along.
            var flow = ExecutionContext.IsFlowSuppressed() ? (AsyncFlowControl?)null : ExecutionContext.SuppressFlow();
            try
            {
                _timer = TimeProvider.System.CreateTimer(static state => ((Item)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
            finally
            {
                flow?.Undo();
            }
        }

        public void Start(TimeSpan delay)
        {
            // Registered before the timer is armed: a cancelable cancelled already stops the item here and then.
            if (_cancelable is not null)
                _registration = _cancelable.Token.Register(static state => ((Item)state!).Cancel(), this);
            lock (_gate)
            {
                if (!_stopped)
                    ArmFor(delay);
            }
        }

        /// <summary>Stops the timer; false when the item had stopped already (or has claimed its one run).</summary>
        public bool Stop()
        {
            lock (_gate)
            {
                if (!StopLocked())
                    return false;
            }
            _registration.Dispose();
            return true;
        }

        /// <summary>The run at the scheduler's disposal, unless the item was cancelled.</summary>
        public void RunLast()
        {
            if (_cancelable?.IsCancellationRequested != true)
                _work();
        }

        private bool StopLocked()
        {
            if (_stopped)
                return false;
            _stopped = true;
            _timer.Dispose();
            return true;
        }

        private void Cancel()
        {
            if (Stop())
                _owner._pending.TryRemove(this, out _);
        }

        private void Fire()
        {
            if (_cancelable?.IsCancellationRequested == true)
            {
                Cancel();
                return;
            }
            lock (_gate)
            {
                if (_stopped)
                    return;
                // The timer counts whole milliseconds of a coarser clock, and a long delay is waited in parts.
                var early = _dueAt - _owner.HighResMonotonicClock;
                if (early > TimeSpan.Zero)
                {
                    Arm(early);
                    return;
                }
                // A single item claims its run: neither a cancel nor the scheduler's disposal runs it again.
                if (_interval is null)
                    StopLocked();
            }
            if (_interval is null)
            {
                _registration.Dispose();
                _owner._pending.TryRemove(this, out _);
            }
            try
            {
                _work();
            }
            catch (Exception e)
            {
                Cancel();
                _owner.Failed(e);
                return;
            }
            if (_interval is not { } interval)
                return;
            lock (_gate)
            {
                if (!_stopped)
                    ArmFor(interval);
            }
        }

        // Due `delay` from now.
        private void ArmFor(TimeSpan delay)
        {
            _dueAt = _owner.HighResMonotonicClock + delay;
            Arm(delay);
        }

        // Rounds up to whole milliseconds, so that the timer does not fire a fraction of one early.
        private void Arm(TimeSpan wait)
        {
            var milliseconds = Math.Ceiling(Math.Min(wait.TotalMilliseconds, LongestWait.TotalMilliseconds));
            _timer.Change(TimeSpan.FromMilliseconds(Math.Max(0, milliseconds)), Timeout.InfiniteTimeSpan);
        }
    }
}
