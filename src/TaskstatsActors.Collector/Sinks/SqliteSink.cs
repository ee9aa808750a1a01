using Akka.Event;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks.Sqlite;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// Keeps the history: every exit record, window summary, loss and listener restart in a SQLite database
/// (default <c>data/taskstats.db</c>, schema in <c>docs/history-schema.md</c>) that
/// <c>taskstats-actors report</c> questions.
/// </summary>
/// <remarks>
/// Writes go into batched transactions in write-ahead-log mode (see <see cref="HistoryWriter"/>): a
/// transaction is committed every <c>flush-records</c> records or <c>flush-interval</c>, whichever comes
/// first, and when the stream ends. A crash or <c>kill -9</c> loses at most that open transaction and never
/// corrupts the file. Config keys: see <see cref="HistoryOptions"/> and <c>config/taskstats.conf</c>.
/// </remarks>
public sealed class SqliteSink : TaskstatsSink
{
    private readonly HistoryOptions _options;
    private HistoryWriter? _writer;

    /// <summary>Reads the sink's keys; the database is opened when the actor starts.</summary>
    /// <exception cref="Settings.ConfigException">A key has a bad value.</exception>
    public SqliteSink(SinkContext context) : base(context)
    {
        _options = HistoryOptions.FromConfig(context.Config, $"taskstats.sinks.{context.Name}");
    }

    private HistoryWriter Writer => _writer ?? throw new InvalidOperationException($"sink {Sink.Name}: the history is not open");

    /// <inheritdoc />
    protected override void OnStart()
    {
        var log = Log;
        _writer = HistoryWriter.Open(_options, log: message => log.Info("{0}", message));
        Log.Info("sink {0}: writing the history to {1} (commits every {2} records or {3}; retention: {4})", Sink.Name, _writer.Path,
            _options.FlushRecords, _options.FlushInterval, Retention());
    }

    /// <inheritdoc />
    protected override void OnRecords(ExitBatch batch) => Writer.Write(batch);

    /// <inheritdoc />
    protected override void OnLoss(RecordsLost loss) => Writer.Write(loss);

    /// <inheritdoc />
    protected override void OnListenerRestarted(ListenerRestarted restart) => Writer.Write(restart);

    /// <inheritdoc />
    protected override void OnWindow(WindowSummary summary)
    {
        if (_options.Windows)
            Writer.Write(summary.Data);
    }

    /// <inheritdoc />
    protected override void OnFlush() => _writer?.Flush();

    /// <inheritdoc />
    protected override void OnStop()
    {
        _writer?.Dispose();
        _writer = null;
    }

    private string Retention()
    {
        var parts = new List<string>();
        if (_options.MaxAge > TimeSpan.Zero)
            parts.Add($"max-age {_options.MaxAge}");
        if (_options.MaxSize > 0)
            parts.Add($"max-size {_options.MaxSize / (1024.0 * 1024.0):0.#} MiB");
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }
}
