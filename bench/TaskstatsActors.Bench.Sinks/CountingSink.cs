using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Sinks;

namespace TaskstatsActors.Bench;

/// <summary>
/// The benchmark's own sink, named in <c>taskstats-actors collect</c>'s HOCON during a run:
/// counts the exit messages whose task record carries the storm's command name (and everything else),
/// adds up the losses the collector reports to its sinks, and writes the counts as one JSON object to
/// its <c>path</c> when the stream ends.
/// </summary>
/// <remarks>
/// Config keys: <c>comm</c> (the storm's command name), <c>path</c> (the result file), and
/// <c>delay-per-record-us</c> (default 0): when set, the sink sleeps that long per record, so that
/// the benchmark can make a slow sink and check that the loss it causes is reported exactly.
/// </remarks>
public sealed class CountingSink : TaskstatsSink
{
    private readonly string _comm;
    private readonly string _path;
    private readonly double _delayPerRecordUs;
    private double _owedDelayUs;
    private long _messages;
    private long _records;
    private long _commRecords;
    private long _lost;
    private long _restarts;
    private long _batches;

    /// <summary>Reads <c>comm</c>, <c>path</c> and <c>delay-per-record-us</c> from the sink's block.</summary>
    public CountingSink(SinkContext context) : base(context)
    {
        _comm = context.Config.GetString("comm", null) is { Length: > 0 } comm
            ? comm
            : throw new ConfigException($"taskstats.sinks.{context.Name}.comm", null, "missing", "the storm's command name");
        _path = context.Config.GetString("path", null) is { Length: > 0 } path
            ? path
            : throw new ConfigException($"taskstats.sinks.{context.Name}.path", null, "missing", "the result file");
        _delayPerRecordUs = context.Config.GetDouble("delay-per-record-us", 0);
    }

    /// <inheritdoc />
    protected override void OnRecords(ExitBatch batch)
    {
        _batches++;
        foreach (var message in batch.Messages)
        {
            _messages++;
            if (message.Task is { } task)
            {
                _records++;
                if (string.Equals(task.Stats.AcComm, _comm, StringComparison.Ordinal))
                    _commRecords++;
            }
            if (message.Process is not null)
                _records++;
        }
        if (_delayPerRecordUs > 0)
        {
            _owedDelayUs += _delayPerRecordUs * batch.Messages.Count;
            if (_owedDelayUs >= 1000)
            {
                var milliseconds = (int)(_owedDelayUs / 1000);
                _owedDelayUs -= milliseconds * 1000.0;
                Thread.Sleep(milliseconds);
            }
        }
    }

    /// <inheritdoc />
    protected override void OnLoss(RecordsLost loss) => _lost += loss.Count;

    /// <inheritdoc />
    protected override void OnListenerRestarted(ListenerRestarted restart) => _restarts++;

    /// <inheritdoc />
    protected override void OnFlush()
    {
        var result = new SinkCounts(_messages, _records, _commRecords, _lost, _restarts, _batches);
        var temporary = _path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(result, SinkCountsJson.Default.SinkCounts), new UTF8Encoding(false));
        File.Move(temporary, _path, overwrite: true);
    }
}

/// <summary>What <see cref="CountingSink"/> counted in one collector run.</summary>
/// <param name="Messages">Exit messages delivered to the sinks.</param>
/// <param name="Records">Task and process records in them.</param>
/// <param name="CommRecords">Task records with the storm's command name.</param>
/// <param name="Lost">Exit messages the collector reported lost (sum of its <c>RecordsLost</c> events).</param>
/// <param name="Restarts">Listener restarts (socket replacements) it was told of.</param>
/// <param name="Batches">Batches delivered.</param>
public sealed record SinkCounts(long Messages, long Records, long CommRecords, long Lost, long Restarts, long Batches)
{
    /// <summary>Reads a file <see cref="CountingSink"/> wrote.</summary>
    public static SinkCounts Read(string path) =>
        JsonSerializer.Deserialize(File.ReadAllText(path), SinkCountsJson.Default.SinkCounts)
        ?? throw new InvalidDataException($"{path} holds no counts");
}

/// <summary>
/// The counts' JSON, generated at compile time: the native build has no reflection-based serializer.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SinkCounts))]
internal sealed partial class SinkCountsJson : JsonSerializerContext;
