using System.Runtime.InteropServices;
using Prometheus;
using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// The per-command metrics of <see cref="PrometheusSink"/>: <c>taskstats_exits_total{comm}</c> and
/// <c>taskstats_delay_seconds{comm,category}</c>, with the <c>comm</c> label bounded by a
/// <see cref="CommandLabelPolicy"/>.
/// </summary>
/// <remarks>
/// An exit is an exit message with a task (<c>AGGR_PID</c>) record, counted once, as the aggregator counts
/// it; the process record that rides along sums the same threads again and is not added. Each exit
/// observes, for every delay category its record carries, the task's <em>total</em> delay of that kind in
/// seconds (the kernel's <c>*_delay_total</c> over the task's life), so <c>_sum</c> is the real delay
/// suffered, <c>rate(taskstats_delay_seconds_sum[5m])</c> is seconds of delay per second by command, and
/// the buckets show how that delay is spread over tasks. A category the record's struct version lacks is
/// not observed. Every series of a label is created when the label is given, so it is exported (at 0)
/// from then on. Single-threaded updates (the sink actor); scrapes read concurrently.
/// </remarks>
internal sealed class CommandMetrics
{
    private static readonly DelayCategory[] Categories = [.. DelayReading.Categories];

    private readonly CommandLabelPolicy _policy;
    private readonly Counter _exits;
    private readonly Histogram _delay;
    private readonly Gauge _labels;
    private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
    private readonly List<Series> _touched = [];

    public CommandMetrics(MetricFactory factory, CommandLabelPolicy policy, IReadOnlyList<double> delayBuckets)
    {
        _policy = policy;
        _exits = factory.CreateCounter("taskstats_exits_total",
            $"Task exits (exit messages with a task record) by command name; commands beyond the top {policy.Top} (at most {policy.Max} labelled) are counted as comm=\"{CommandLabelPolicy.Other}\".",
            new CounterConfiguration { LabelNames = ["comm"] });
        _delay = factory.CreateHistogram("taskstats_delay_seconds",
            "Per exiting task, its total delay of one category over its life (cpu run queue, blkio, swapin, reclaim, thrashing, compact, wpcopy, irq), by command name.",
            new HistogramConfiguration { LabelNames = ["comm", "category"], Buckets = [.. delayBuckets] });
        _labels = factory.CreateGauge("taskstats_command_labels",
            $"Commands with a comm label of their own (they are never withdrawn; at most {policy.Max}).");
        SeriesOf(CommandLabelPolicy.Other);
    }

    /// <summary>Counts every exit of a batch.</summary>
    public void Add(ExitBatch batch)
    {
        var messages = batch.Messages;
        for (var i = 0; i < messages.Count; i++)
            Count(messages[i]);
        Publish();
    }

    // Most delays of most tasks are 0 (all but cpu while kernel.task_delayacct is off), and a batch holds
    // many exits of few commands: exits and zero delays are summed per series over the batch and handed
    // to the metrics once per batch, which spares most of the metric updates.
    private void Count(TaskstatsMessage message)
    {
        if (message.Task is not { } task)
            return;
        var stats = task.Stats;
        var series = SeriesOf(_policy.Observe(stats.AcComm ?? WindowAccumulator.UnknownCommand, out _));
        if (series.PendingExits++ == 0)
            _touched.Add(series);
        for (var c = 0; c < Categories.Length; c++)
        {
            if (DelayReading.TotalOf(stats, Categories[c]) is not { } totalNs)
                continue;
            if (totalNs == 0)
                series.PendingZeros[c]++;
            else
                series.Delays[c].Observe(totalNs / 1e9);
        }
    }

    private void Publish()
    {
        foreach (var series in _touched)
        {
            series.Exits.Inc(series.PendingExits);
            series.PendingExits = 0;
            for (var c = 0; c < Categories.Length; c++)
            {
                if (series.PendingZeros[c] > 0)
                    series.Delays[c].Observe(0, series.PendingZeros[c]);
                series.PendingZeros[c] = 0;
            }
        }
        _touched.Clear();
    }

    /// <summary>Ends the policy's window; commands that earned a label get their series now.</summary>
    public CommandLabelPolicy.WindowOutcome CloseWindow()
    {
        var outcome = _policy.CloseWindow();
        foreach (var comm in outcome.Admitted)
            SeriesOf(comm);
        return outcome;
    }

    private Series SeriesOf(string label)
    {
        ref var series = ref CollectionsMarshal.GetValueRefOrAddDefault(_series, label, out var exists);
        if (!exists)
        {
            var delays = new Histogram.Child[Categories.Length];
            for (var c = 0; c < Categories.Length; c++)
                delays[c] = _delay.WithLabels(label, DelayReading.ShortName(Categories[c]));
            series = new Series(_exits.WithLabels(label), delays);
            // "other" is not a command with a label.
            _labels.Set(_policy.Labelled.Count);
        }
        return series!;
    }

    private sealed class Series(Counter.Child exits, Histogram.Child[] delays)
    {
        public readonly Counter.Child Exits = exits;
        public readonly Histogram.Child[] Delays = delays;
        public long PendingExits;
        public readonly long[] PendingZeros = new long[delays.Length];
    }
}
