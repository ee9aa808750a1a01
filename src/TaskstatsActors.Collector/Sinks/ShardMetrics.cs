using System.Globalization;
using Prometheus;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Status;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// The per-shard metrics of <see cref="PrometheusSink"/>: the collector's own figures, labelled
/// <c>shard</c> with the shard's index in the layout (<c>taskstats_shard_info</c> maps it to its CPUs).
/// </summary>
/// <remarks>
/// <para>Two sources feed them. The events every sink sees (exit batches, losses, listener restarts) arrive
/// at once but do not tell everything: <c>ENOBUFS</c> incidents, the socket queue, and restarts after a
/// listener fault are not events. The collector's periodic figures (<see cref="ShardSnapshot"/>, the same
/// figures as the status line and the final summary) tell everything, every few seconds.</para>
/// <para>Where both count the same thing (records, restarts), each is a lower bound of the truth at the moment
/// it is read, so the counter shows the larger of the two: it moves at once with the events, catches up with
/// what the events do not carry, and never counts a thing twice. <c>ENOBUFS</c> incidents come from the figures
/// only (one incident may give several loss events); losses by source come from the events only (the figures
/// do not split them). The series fed only by the figures appear with the first figures.</para>
/// Single-threaded updates (the sink actor); scrapes read concurrently.
/// </remarks>
internal sealed class ShardMetrics
{
    private static readonly LossSource[] Sources = Enum.GetValues<LossSource>();

    private readonly Counter _records;
    private readonly Counter _lost;
    private readonly Counter _overflows;
    private readonly Counter _restarts;
    private readonly Gauge _queued;
    private readonly Gauge _buffer;
    private readonly Gauge _info;
    private readonly Dictionary<int, Shard> _shards = new();

    public ShardMetrics(MetricFactory factory, IReadOnlyList<ShardInfo> shards)
    {
        string[] shard = ["shard"];
        _records = factory.CreateCounter("taskstats_records_total",
            "Exit records (task and process records) delivered by the shard's listener.", new CounterConfiguration { LabelNames = shard });
        _lost = factory.CreateCounter("taskstats_lost_total",
            "Exit messages lost on the shard, by how the loss was counted: socket-drop-counter (the kernel dropped them, ENOBUFS), " +
            "sequence-gap (a gap in the kernel's sequence numbers across a listener restart after a fault), malformed (arrived but undecodable).",
            new CounterConfiguration { LabelNames = ["shard", "source"] });
        _overflows = factory.CreateCounter("taskstats_enobufs_incidents_total",
            "Times the shard's socket overflowed (ENOBUFS); each may lose many messages (taskstats_lost_total).", new CounterConfiguration { LabelNames = shard });
        _restarts = factory.CreateCounter("taskstats_listener_restarts_total",
            "Socket replacements by the watchdog after overflows, and listener restarts after faults.", new CounterConfiguration { LabelNames = shard });
        _queued = factory.CreateGauge("taskstats_socket_queued_bytes",
            "Bytes waiting in the shard's socket receive queue at the listener's last look (buffer depth).", new GaugeConfiguration { LabelNames = shard });
        _buffer = factory.CreateGauge("taskstats_receive_buffer_bytes",
            "The shard's socket receive buffer as the kernel granted it.", new GaugeConfiguration { LabelNames = shard });
        _info = factory.CreateGauge("taskstats_shard_info",
            "Always 1: the CPUs (cpumask) each shard's listener registered.", new GaugeConfiguration { LabelNames = ["shard", "cpus"] });
        foreach (var info in shards)
            ShardOf(info);
    }

    /// <summary>A batch of <paramref name="records"/> records arrived from <paramref name="shard"/>.</summary>
    public void Records(ShardInfo shard, long records)
    {
        var s = ShardOf(shard);
        s.EventRecords += records;
        s.Records.IncTo(Math.Max(s.EventRecords, s.FigureRecords));
    }

    /// <summary>Messages were lost.</summary>
    public void Lost(RecordsLost loss)
    {
        if (loss.Count > 0)
            ShardOf(loss.Shard).Lost[(int)loss.Source].Inc(loss.Count);
    }

    /// <summary>A listener replaced its socket.</summary>
    public void Restarted(ListenerRestarted restart)
    {
        var s = ShardOf(restart.Shard);
        s.EventRestarts++;
        s.Restarts.IncTo(Math.Max(s.EventRestarts, s.FigureRestarts));
        if (restart.ReceiveBuffer > 0)
            s.BufferGauge(_buffer).Set(restart.ReceiveBuffer);
    }

    /// <summary>The collector's figures of one shard.</summary>
    public void Observe(ShardSnapshot figures)
    {
        var s = ShardOf(figures.Shard);
        s.FigureRecords = Math.Max(s.FigureRecords, figures.Records);
        s.Records.IncTo(Math.Max(s.EventRecords, s.FigureRecords));
        s.FigureRestarts = Math.Max(s.FigureRestarts, figures.Restarts);
        s.Restarts.IncTo(Math.Max(s.EventRestarts, s.FigureRestarts));
        (s.Overflows ??= _overflows.WithLabels(s.Label)).IncTo(figures.Overflows);
        (s.Queued ??= _queued.WithLabels(s.Label)).Set(figures.QueuedBytes);
        if (figures.ReceiveBuffer > 0)
            s.BufferGauge(_buffer).Set(figures.ReceiveBuffer);
    }

    /// <summary>The name a loss source has in the <c>source</c> label (as in the JSON Lines sink).</summary>
    public static string SourceName(LossSource source) => source switch
    {
        LossSource.SocketDropCounter => "socket-drop-counter",
        LossSource.SequenceGap => "sequence-gap",
        LossSource.Malformed => "malformed",
        _ => source.ToString().ToLowerInvariant(),
    };

    private Shard ShardOf(ShardInfo info)
    {
        if (_shards.TryGetValue(info.Index, out var shard))
            return shard;
        var label = info.Index.ToString(CultureInfo.InvariantCulture);
        var lost = new Counter.Child[Sources.Max(s => (int)s) + 1];
        foreach (var source in Sources)
            lost[(int)source] = _lost.WithLabels(label, SourceName(source));
        shard = new Shard(label, _records.WithLabels(label), lost, _restarts.WithLabels(label));
        _info.WithLabels(label, info.Cpus.ToString()).Set(1);
        _shards[info.Index] = shard;
        return shard;
    }

    private sealed class Shard(string label, Counter.Child records, Counter.Child[] lost, Counter.Child restarts)
    {
        public readonly string Label = label;
        public readonly Counter.Child Records = records;
        public readonly Counter.Child[] Lost = lost;
        public readonly Counter.Child Restarts = restarts;
        public Counter.Child? Overflows;
        public Gauge.Child? Queued;
        private Gauge.Child? _buffer;
        public long EventRecords;
        public long FigureRecords;
        public long EventRestarts;
        public long FigureRestarts;

        public Gauge.Child BufferGauge(Gauge gauge) => _buffer ??= gauge.WithLabels(Label);
    }
}
