using System.Net;
using System.Net.Sockets;
using Akka.Event;
using Prometheus;
using TaskstatsActors.Collector.Events;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// Serves the collector's figures and per-command exit and delay metrics for Prometheus at
/// <c>http://&lt;listen&gt;/metrics</c> (text format 0.0.4), on <c>127.0.0.1:9464</c> by default:
/// loopback only, so nothing off the host can read it until the operator sets <c>listen</c>.
/// </summary>
/// <remarks>
/// <para>Metrics (see <see cref="ShardMetrics"/> and <see cref="CommandMetrics"/> for how each is counted):</para>
/// <list type="bullet">
/// <item><c>taskstats_records_total{shard}</c>, <c>taskstats_lost_total{shard,source}</c>,
/// <c>taskstats_enobufs_incidents_total{shard}</c>, <c>taskstats_listener_restarts_total{shard}</c>,
/// <c>taskstats_socket_queued_bytes{shard}</c> (buffer depth), <c>taskstats_receive_buffer_bytes{shard}</c>,
/// <c>taskstats_shard_info{shard,cpus}</c>;</item>
/// <item><c>taskstats_exits_total{comm}</c> and the histogram <c>taskstats_delay_seconds{comm,category}</c>
/// (per exiting task, its total delay of each category), with <c>comm</c> bounded by
/// <see cref="CommandLabelPolicy"/>: the first <c>top-commands</c> commands seen, then each aggregation
/// window's top <c>top-commands</c> by exits (with a real part of the window's exits), up to
/// <c>max-commands</c>, never withdrawn; the rest is <c>comm="other"</c>;
/// <c>taskstats_command_labels</c> says how many have labels;</item>
/// <item>with <c>process-metrics = on</c> (default), the collector process's own <c>process_*</c> and
/// <c>dotnet_*</c> figures.</item>
/// </list>
/// <para>Config keys: <c>listen</c> (default <c>"127.0.0.1:9464"</c>), <c>top-commands</c> (default 20),
/// <c>max-commands</c> (default twice top-commands, at most 1000), <c>delay-buckets</c> (seconds; default
/// decades from 10 µs to 10 s), <c>process-metrics</c> (default on).</para>
/// <para>Counters live in memory: they start at 0 when the collector (or this sink, after a fault) starts,
/// which Prometheus's <c>rate</c> and <c>increase</c> take as a counter reset. If the address cannot be
/// bound at start (port in use), the sink says so, keeps counting, and tries again at every window.</para>
/// </remarks>
public sealed class PrometheusSink : TaskstatsSink
{
    private readonly PrometheusSinkSettings _settings;
    private readonly CollectorRegistry _registry = new();
    private readonly ShardMetrics _shards;
    private readonly CommandMetrics _commands;
    private MetricsEndpoint? _endpoint;
    private bool _bindFailed;
    private bool _capReported;

    /// <summary>Reads the sink's keys and sets up the metrics; the endpoint opens when the actor starts.</summary>
    public PrometheusSink(SinkContext context) : base(context)
    {
        _settings = PrometheusSinkSettings.Read(context);
        var factory = Metrics.WithCustomRegistry(_registry);
        _shards = new ShardMetrics(factory, context.Shards);
        _commands = new CommandMetrics(factory, new CommandLabelPolicy(_settings.TopCommands, _settings.MaxCommands), _settings.DelayBuckets);
        if (_settings.ProcessMetrics)
            DotNetStats.Register(_registry);
    }

    /// <summary>Where the endpoint listens now (the port chosen, when 0 was asked for); null while it is not bound.</summary>
    internal IPEndPoint? LocalEndPoint => _endpoint?.LocalEndPoint;

    /// <inheritdoc />
    protected override void OnStart()
    {
        foreach (var key in PrometheusSinkSettings.UnknownKeys(Sink.Config))
            Log.Warning("sink {0}: unknown key taskstats.sinks.{0}.{1} is ignored (known: {2})", Sink.Name, key,
                string.Join(", ", PrometheusSinkSettings.KnownKeys.Order(StringComparer.Ordinal)));
        TryListen();
    }

    /// <inheritdoc />
    protected override void OnRecords(ExitBatch batch)
    {
        _shards.Records(batch.Shard, batch.RecordCount);
        _commands.Add(batch);
    }

    /// <inheritdoc />
    protected override void OnLoss(RecordsLost loss) => _shards.Lost(loss);

    /// <inheritdoc />
    protected override void OnListenerRestarted(ListenerRestarted restart) => _shards.Restarted(restart);

    /// <inheritdoc />
    protected override void OnStatus(CollectorStatus status)
    {
        foreach (var shard in status.Summary.Shards)
            _shards.Observe(shard);
    }

    /// <inheritdoc />
    protected override void OnWindow(WindowSummary summary)
    {
        var outcome = _commands.CloseWindow();
        if (outcome.Admitted.Count > 0)
            Log.Info("sink {0}: comm labels added for {1}", Sink.Name, string.Join(", ", outcome.Admitted));
        if (outcome.Refused.Count > 0 && !_capReported)
        {
            _capReported = true;
            Log.Warning("sink {0}: {1} commands have labels (max-commands); top commands such as {2} stay counted as comm=\"{3}\" " +
                        "until the collector restarts (raise taskstats.sinks.{0}.max-commands to label more)",
                Sink.Name, _settings.MaxCommands, string.Join(", ", outcome.Refused), CommandLabelPolicy.Other);
        }
        if (_endpoint is null)
            TryListen();
    }

    /// <inheritdoc />
    protected override void OnStop()
    {
        _endpoint?.Dispose();
        _endpoint = null;
    }

    private void TryListen()
    {
        try
        {
            _endpoint = MetricsEndpoint.Start(_settings.Listen, _registry,
                e => Log.Error(e, "sink {0}: collecting the metrics for a scrape failed", Sink.Name));
        }
        catch (SocketException e)
        {
            if (!_bindFailed)
                Log.Error("sink {0}: cannot listen on {1}: {2}; counting goes on, and the sink tries again at every window " +
                          "(taskstats.sinks.{0}.listen chooses another address)", Sink.Name, _settings.Listen, e.Message);
            _bindFailed = true;
            return;
        }
        var where = IPAddress.IsLoopback(_settings.Listen.Address) ? "loopback only" : "reachable from other hosts: no TLS, no authentication";
        Log.Info("sink {0}: serving Prometheus metrics at {1} ({2})", Sink.Name, _endpoint.Url, where);
        _bindFailed = false;
    }
}
