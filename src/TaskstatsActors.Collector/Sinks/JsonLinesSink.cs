using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Globalization;
using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// Writes JSON Lines: one object per exit record, with <c>"pid"</c> or <c>"tgid"</c> as
/// <c>taskstats-actors get --json</c> prints it, then <c>"shard"</c> and <c>"seq"</c>, then every field
/// of the record under the kernel's name (<c>ac_comm</c>, <c>cpu_delay_total</c>, …). Losses, listener
/// restarts and (unless <c>windows = off</c>) window summaries are lines of their own, told apart by
/// an <c>"event"</c> key that exit records never have.
/// </summary>
/// <remarks>
/// Config keys: <c>path</c> (required; relative to the working directory), <c>rotate-size</c> (a HOCON
/// byte size such as <c>100 MiB</c>; 0, the default, never rotates), <c>keep</c> (rotated files kept as
/// <c>path.1</c> … <c>path.N</c>; default 5), <c>windows</c> (<c>on</c>|<c>off</c>; default on).
/// The file is appended to, never truncated. Each batch is written whole and flushed before it is
/// acknowledged, so a reader sees only complete lines.
/// </remarks>
public sealed class JsonLinesSink : TaskstatsSink
{
    private static readonly JsonEncodedText Pid = JsonEncodedText.Encode("pid");
    private static readonly JsonEncodedText Tgid = JsonEncodedText.Encode("tgid");
    private static readonly JsonEncodedText Shard = JsonEncodedText.Encode("shard");
    private static readonly JsonEncodedText Seq = JsonEncodedText.Encode("seq");
    private static readonly JsonEncodedText Event = JsonEncodedText.Encode("event");

    private readonly string _path;
    private readonly long _rotateSize;
    private readonly int _keep;
    private readonly bool _windows;

    // One buffer and one writer for the sink's lifetime: a batch is serialized into the buffer, then
    // written to the file line by line. Serializing first means a failure while formatting leaves
    // nothing half-written, and the batch the restarted sink is handed again is not duplicated.
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly List<int> _lineEnds = new();
    private readonly Utf8JsonWriter _json;

    private RotatingFileWriter? _file;

    /// <summary>Reads the sink's keys; the file is opened when the actor starts.</summary>
    public JsonLinesSink(SinkContext context) : base(context)
    {
        var config = context.Config;
        _path = config.GetString("path", null) is { Length: > 0 } path
            ? path
            : throw new ConfigException($"taskstats.sinks.{context.Name}.path", null, "missing", "the file to write, e.g. \"data/exits.jsonl\"");
        _rotateSize = config.GetByteSize("rotate-size", 0) ?? 0;
        if (_rotateSize < 0)
            throw new ConfigException($"taskstats.sinks.{context.Name}.rotate-size", _rotateSize.ToString(CultureInfo.InvariantCulture), "negative", "a byte size such as 100 MiB, or 0 to never rotate");
        _keep = config.GetInt("keep", 5);
        if (_keep < 0)
            throw new ConfigException($"taskstats.sinks.{context.Name}.keep", _keep.ToString(CultureInfo.InvariantCulture), "negative", "how many rotated files to keep, 0 or more");
        _windows = config.GetBoolean("windows", true);

        // Relaxed escaping: the output is a data file, not HTML, and "g++" should stay greppable as g++.
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <inheritdoc />
    protected override void OnStart()
    {
        _file = new RotatingFileWriter(_path, _rotateSize, _keep);
        // A previous run killed mid-write may have left half a line; end it so our first line parses.
        if (_file.LastByte() is { } last && last != (byte)'\n')
        {
            _file.Write("\n"u8);
            _file.Flush();
        }
    }

    /// <inheritdoc />
    protected override void OnRecords(ExitBatch batch)
    {
        BeginBatch();
        var messages = batch.Messages;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Task is { } task)
                WriteRecord(task, batch.Shard.Index, message.Sequence);
            if (message.Process is { } process)
                WriteRecord(process, batch.Shard.Index, message.Sequence);
        }
        EndBatch();
    }

    /// <inheritdoc />
    protected override void OnLoss(RecordsLost loss)
    {
        BeginBatch();
        StartLine();
        _json.WriteString(Event, "lost");
        WriteShard(loss.Shard);
        _json.WriteString("time", loss.Time);
        _json.WriteNumber("count", loss.Count);
        _json.WriteString("source", SourceName(loss.Source));
        EndLine();
        EndBatch();
    }

    /// <inheritdoc />
    protected override void OnListenerRestarted(ListenerRestarted restart)
    {
        BeginBatch();
        StartLine();
        _json.WriteString(Event, "listener-restarted");
        WriteShard(restart.Shard);
        _json.WriteString("time", restart.Time);
        _json.WriteNumber("receive_buffer", restart.ReceiveBuffer);
        _json.WriteString("reason", restart.Reason);
        EndLine();
        EndBatch();
    }

    /// <inheritdoc />
    protected override void OnWindow(WindowSummary summary)
    {
        if (!_windows)
            return;
        BeginBatch();
        StartLine();
        WriteWindow(summary.Data);
        EndLine();
        EndBatch();
    }

    /// <inheritdoc />
    protected override void OnFlush() => _file?.Flush();

    /// <inheritdoc />
    protected override void OnStop()
    {
        _file?.Dispose();
        _file = null;
    }

    private void BeginBatch()
    {
        _buffer.ResetWrittenCount();
        _lineEnds.Clear();
    }

    private void StartLine()
    {
        _json.Reset();
        _json.WriteStartObject();
    }

    private void EndLine()
    {
        _json.WriteEndObject();
        _json.Flush();
        _buffer.Write("\n"u8);
        _lineEnds.Add(_buffer.WrittenCount);
    }

    private void EndBatch()
    {
        var file = _file ?? throw new InvalidOperationException($"sink {Sink.Name}: the file is not open");
        var written = _buffer.WrittenSpan;
        var start = 0;
        foreach (var end in _lineEnds)
        {
            // Line by line, so that rotation never splits one.
            file.Write(written[start..end]);
            start = end;
        }
        file.Flush();
    }

    private void WriteRecord(TaskstatsRecord record, int shard, uint sequence)
    {
        StartLine();
        _json.WriteNumber(record.Scope == TaskstatsScope.Pid ? Pid : Tgid, record.Id);
        _json.WriteNumber(Shard, shard);
        _json.WriteNumber(Seq, sequence);
        TaskstatsJson.WriteFields(_json, record.Stats);
        EndLine();
    }

    private void WriteShard(ShardInfo shard)
    {
        _json.WriteNumber(Shard, shard.Index);
        _json.WriteString("cpus", shard.Cpus.ToString());
    }

    private void WriteWindow(WindowSummaryData data)
    {
        _json.WriteString(Event, "window");
        _json.WriteString("start", data.Start);
        _json.WriteString("end", data.End);
        _json.WriteNumber("exits", data.Exits);
        _json.WriteNumber("lost", data.Lost);
        WriteGroups("by_command", "comm", data.ByCommand, numericKey: false);
        WriteGroups("by_user", "uid", data.ByUser, numericKey: true);
        WriteGroups("by_process", "tgid", data.ByProcess, numericKey: true);
        _json.WriteStartObject("top_by_delay");
        foreach (var (category, groups) in data.TopByDelay.OrderBy(pair => pair.Key))
            WriteGroups(DelayReading.ShortName(category), "comm", groups, numericKey: false);
        _json.WriteEndObject();
    }

    private void WriteGroups(string name, string keyName, IReadOnlyList<GroupFigures> groups, bool numericKey)
    {
        _json.WriteStartArray(name);
        foreach (var group in groups)
        {
            _json.WriteStartObject();
            // uids and tgids are numbers in the kernel's records; keep them numbers here so they join.
            if (numericKey && ulong.TryParse(group.Key, out var id))
                _json.WriteNumber(keyName, id);
            else
                _json.WriteString(keyName, group.Key);
            // A process group names its command too, so a reader need not join it with exit records.
            if (group.Command is { } command)
                _json.WriteString("comm", command);
            _json.WriteNumber("exits", group.Exits);
            _json.WriteNumber("cpu_time_us", group.CpuTimeUs);
            _json.WriteNumber("read_bytes", group.ReadBytes);
            _json.WriteNumber("write_bytes", group.WriteBytes);
            _json.WriteStartObject("delays");
            foreach (var (category, figures) in group.Delays.OrderBy(pair => pair.Key))
            {
                _json.WriteStartObject(DelayReading.ShortName(category));
                _json.WriteNumber("count", figures.Count);
                _json.WriteNumber("total_ns", figures.TotalNs);
                if (figures.MaxNs is { } max)
                    _json.WriteNumber("max_ns", max);
                _json.WriteEndObject();
            }
            _json.WriteEndObject();
            _json.WriteEndObject();
        }
        _json.WriteEndArray();
    }

    private static string SourceName(LossSource source) => source switch
    {
        LossSource.SocketDropCounter => "socket-drop-counter",
        LossSource.SequenceGap => "sequence-gap",
        LossSource.Malformed => "malformed",
        _ => source.ToString(),
    };
}
