using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.TestKit;
using TaskstatsActors.Collector.Hosting;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Hosting;

/// <summary>
/// The scheduler the collector's actor system runs on keeps the contract of Akka's default one. Waits are
/// conditions; where a spec shows that something did not happen, it waits for a later item instead of a time.
/// </summary>
public sealed class TimerQueueSchedulerSpecs(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit($"akka.loglevel = INFO\n{TimerQueueScheduler.ConfigLine}", output: output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private IAdvancedScheduler Scheduler => Sys.Scheduler.Advanced;

    [Fact]
    public void The_actor_system_should_run_on_it()
    {
        Assert.IsType<TimerQueueScheduler>(Sys.Scheduler);
    }

    [Fact]
    public void An_item_should_run_once_and_not_before_its_delay()
    {
        var ran = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();
        var runs = 0;
        Scheduler.ScheduleOnce(TimeSpan.FromMilliseconds(120), () =>
        {
            Interlocked.Increment(ref runs);
            ran.TrySetResult(clock.Elapsed);
        });

        Assert.True(ran.Task.Wait(Patience));
        Assert.True(ran.Task.Result >= TimeSpan.FromMilliseconds(120), $"ran after {ran.Task.Result.TotalMilliseconds} ms");
        AwaitCondition(() => ((TimerQueueScheduler)Sys.Scheduler).Pending == 0, Patience);
        Assert.Equal(1, runs);
    }

    [Fact]
    public void A_tell_should_reach_its_receiver_from_the_sender_given()
    {
        var receiver = CreateTestProbe();
        var sender = CreateTestProbe();

        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(20), receiver.Ref, "due", sender.Ref);

        receiver.ExpectMsg("due", Patience);
        Assert.Equal(sender.Ref, receiver.LastSender);
    }

    [Fact]
    public void A_cancelled_item_should_not_run()
    {
        var cancelled = 0;
        var cancelable = new Cancelable(Sys.Scheduler.Advanced);
        Scheduler.ScheduleOnce(TimeSpan.FromMilliseconds(100), () => Interlocked.Increment(ref cancelled), cancelable);
        cancelable.Cancel();
        var later = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Scheduler.ScheduleOnce(TimeSpan.FromMilliseconds(300), () => later.SetResult());

        Assert.True(later.Task.Wait(Patience));
        Assert.Equal(0, cancelled);
        AwaitCondition(() => ((TimerQueueScheduler)Sys.Scheduler).Pending == 0, Patience);
    }

    [Fact]
    public void A_repeated_item_should_run_until_cancelled_and_its_runs_should_never_overlap()
    {
        var runs = 0;
        var running = 0;
        var overlapped = false;
        var cancelable = new Cancelable(Sys.Scheduler.Advanced);
        Scheduler.ScheduleRepeatedly(TimeSpan.Zero, TimeSpan.FromMilliseconds(5), () =>
        {
            if (Interlocked.Increment(ref running) > 1)
                overlapped = true;
            // Longer than the interval: a timer that fired at a fixed rate would start the next run meanwhile.
            var busyUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 50;
            while (Stopwatch.GetTimestamp() < busyUntil)
            {
            }
            Interlocked.Increment(ref runs);
            Interlocked.Decrement(ref running);
        }, cancelable);

        AwaitCondition(() => Volatile.Read(ref runs) >= 5, Patience);
        cancelable.Cancel();
        var atCancel = Volatile.Read(ref runs);
        var later = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Scheduler.ScheduleOnce(TimeSpan.FromMilliseconds(100), () => later.SetResult());

        Assert.True(later.Task.Wait(Patience));
        Assert.False(overlapped);
        // A run that had begun when Cancel was called may still finish; none starts after it.
        Assert.InRange(Volatile.Read(ref runs), atCancel, atCancel + 1);
        AwaitCondition(() => ((TimerQueueScheduler)Sys.Scheduler).Pending == 0, Patience);
    }

    [Fact]
    public void A_repeated_tell_should_keep_coming_until_cancelled()
    {
        var probe = CreateTestProbe();
        var cancelable = Sys.Scheduler.ScheduleTellRepeatedlyCancelable(TimeSpan.Zero, TimeSpan.FromMilliseconds(10), probe.Ref, "tick", ActorRefs.NoSender);

        probe.ExpectMsg("tick", Patience);
        probe.ExpectMsg("tick", Patience);
        probe.ExpectMsg("tick", Patience);
        cancelable.Cancel();
        AwaitCondition(() => ((TimerQueueScheduler)Sys.Scheduler).Pending == 0, Patience);
    }

    [Fact]
    public void An_item_that_throws_should_be_logged_and_not_run_again_and_others_should_go_on()
    {
        var runs = 0;
        EventFilter.Error(start: "a scheduled task failed").ExpectOne(() =>
            Scheduler.ScheduleRepeatedly(TimeSpan.Zero, TimeSpan.FromMilliseconds(5), () =>
            {
                Interlocked.Increment(ref runs);
                throw new InvalidOperationException("boom");
            }));
        var probe = CreateTestProbe();
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(50), probe.Ref, "still working", ActorRefs.NoSender);

        probe.ExpectMsg("still working", Patience);
        Assert.Equal(1, Volatile.Read(ref runs));
    }

    private static readonly AsyncLocal<string?> CallersValue = new();

    [Fact]
    public void An_item_should_not_see_the_schedulers_callers_async_locals_and_the_caller_should_keep_its_flow()
    {
        var seen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        CallersValue.Value = "the caller's";

        Scheduler.ScheduleOnce(TimeSpan.FromMilliseconds(10), () => seen.SetResult(CallersValue.Value));

        Assert.False(ExecutionContext.IsFlowSuppressed());
        Assert.True(seen.Task.Wait(Patience));
        Assert.Null(seen.Task.Result);
    }

    [Fact]
    public void Disposal_should_run_each_pending_item_once_but_no_cancelled_one_and_refuse_new_items()
    {
        var scheduler = new TimerQueueScheduler(ConfigurationFactory.Empty, Logging.GetLogger(Sys, this));
        IActionScheduler actions = scheduler;
        var pendingRan = 0;
        var cancelledRan = 0;
        actions.ScheduleOnce(TimeSpan.FromHours(1), () => Interlocked.Increment(ref pendingRan));
        var cancelable = new Cancelable(actions);
        actions.ScheduleOnce(TimeSpan.FromHours(1), () => Interlocked.Increment(ref cancelledRan), cancelable);
        cancelable.Cancel();

        scheduler.Dispose();

        Assert.Equal(1, pendingRan);
        Assert.Equal(0, cancelledRan);
        Assert.Equal(0, scheduler.Pending);
        Assert.Throws<SchedulerException>(() => actions.ScheduleOnce(TimeSpan.Zero, () => { }));
        scheduler.Dispose();
        Assert.Equal(1, pendingRan);
    }

    [Fact]
    public void Disposal_while_an_item_runs_should_not_run_it_again()
    {
        var scheduler = new TimerQueueScheduler(ConfigurationFactory.Empty, Logging.GetLogger(Sys, this));
        IActionScheduler actions = scheduler;
        var runs = 0;
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        actions.ScheduleOnce(TimeSpan.Zero, () =>
        {
            Interlocked.Increment(ref runs);
            started.Set();
            release.Wait(Patience);
        });
        Assert.True(started.Wait(Patience));

        scheduler.Dispose();
        release.Set();

        Assert.Equal(1, runs);
        Assert.Equal(0, scheduler.Pending);
    }

    [Fact]
    public void A_delay_longer_than_a_timer_takes_should_be_accepted()
    {
        using var scheduler = new TimerQueueScheduler(ConfigurationFactory.Empty, Logging.GetLogger(Sys, this));
        IActionScheduler actions = scheduler;
        var cancelable = new Cancelable(actions);

        actions.ScheduleOnce(TimeSpan.FromDays(400), () => { }, cancelable);

        Assert.Equal(1, scheduler.Pending);
        cancelable.Cancel();
        Assert.Equal(0, scheduler.Pending);
    }
}
