using Akka.Configuration;
using TaskstatsActors.Collector.Events;

namespace TaskstatsActors.Collector.Settings;

/// <summary>What <c>kernel.task_delayacct</c> should be when the collector starts.</summary>
public enum DelayAccountingMode
{
    /// <summary>Say so if it is off, and go on.</summary>
    Warn,
    /// <summary>Turn it on if it is off (needs root), and restore it at shutdown.</summary>
    Enable,
    /// <summary>Refuse to start if it is off.</summary>
    Require,
}

/// <summary>What a sink's buffer does when full.</summary>
public enum SinkOverflow
{
    /// <summary>Slow the whole stream down (and so, in the end, the listeners).</summary>
    Backpressure,
    /// <summary>Drop the newest events for this sink only, counting every dropped record.</summary>
    Drop,
}

/// <summary>The collector's settings, read from the <c>taskstats</c> HOCON block and validated.</summary>
/// <param name="Shards">The shard layout: disjoint cpumasks, one listener each.</param>
/// <param name="ReceiveBuffer">Bytes asked for each listener's socket at start.</param>
/// <param name="MaxReceiveBuffer">The watchdog may grow a buffer up to this.</param>
/// <param name="DelayAccounting">What to do about <c>kernel.task_delayacct</c>.</param>
/// <param name="AggregateWindow">Length of an aggregation window.</param>
/// <param name="AggregateTop">How many entries the top-N lists hold.</param>
/// <param name="StatusInterval">How often the live status line is printed; zero turns it off.</param>
/// <param name="PinListeners">Pin each listener's receive loop to its shard's CPUs.</param>
/// <param name="BatchSize">Most messages a listener drains into one batch.</param>
/// <param name="StreamBuffer">Batches buffered between the listeners and the sinks' fan-out.</param>
/// <param name="Watchdog">Restart policy.</param>
/// <param name="Sinks">The sinks, in config order.</param>
/// <param name="Warnings">Things worth telling the operator that do not stop the start (e.g. CPUs no shard covers).</param>
/// <param name="BatchLinger">How long a listener waits after a wake-up before draining, so that one wake-up
/// takes many messages; zero drains at once.</param>
/// <param name="QuietLinger">How long a listener may wait instead when exits arrive slowly (see
/// <see cref="Listening.ListenerOptions.QuietLinger"/>); zero keeps <paramref name="BatchLinger"/>.</param>
public sealed record CollectorSettings(
    IReadOnlyList<ShardInfo> Shards,
    int ReceiveBuffer,
    int MaxReceiveBuffer,
    DelayAccountingMode DelayAccounting,
    TimeSpan AggregateWindow,
    int AggregateTop,
    TimeSpan StatusInterval,
    bool PinListeners,
    int BatchSize,
    int StreamBuffer,
    WatchdogSettings Watchdog,
    IReadOnlyList<SinkSettings> Sinks,
    IReadOnlyList<string> Warnings,
    TimeSpan BatchLinger = default,
    TimeSpan QuietLinger = default);

/// <summary>How the watchdog restarts overflowing listeners.</summary>
/// <param name="MinBackoff">Wait before the first restart after an overflow.</param>
/// <param name="MaxBackoff">The longest wait, however many overflows in a row.</param>
/// <param name="ResetAfter">A shard quiet this long starts again from <paramref name="MinBackoff"/>.</param>
public sealed record WatchdogSettings(TimeSpan MinBackoff, TimeSpan MaxBackoff, TimeSpan ResetAfter);

/// <summary>One sink from <c>taskstats.sinks</c>.</summary>
/// <param name="Name">Its key, e.g. <c>jsonl</c>.</param>
/// <param name="Type">The sink class, loaded and checked to derive from <see cref="Sinks.TaskstatsSink"/>.</param>
/// <param name="Buffer">Events buffered for this sink alone.</param>
/// <param name="Overflow">What happens when that buffer is full.</param>
/// <param name="Config">The sink's whole block, passed to it.</param>
public sealed record SinkSettings(string Name, Type Type, int Buffer, SinkOverflow Overflow, Config Config);
