using Akka.Event;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// Writes the <c>getdelays -w</c> format: every record's <c>struct taskstats</c> (task records and
/// process records alike, in arrival order) appended back to back, with nothing between them, so that
/// a v16 file is an array of 560-byte structs. Each struct starts with its <c>version</c>, which gives
/// its size. Losses, restarts and window summaries have no place in this format and are skipped.
/// </summary>
/// <remarks>
/// <para>Config key: <c>path</c> (required; relative to the working directory). The file is appended to.</para>
/// <para>
/// The bytes are <em>re-encoded</em> from the decoded record with <see cref="TaskstatsEncoder"/>, in the
/// record's own struct version, not copied from the netlink message: the stream carries decoded records
/// only. For every version this library knows the result is the kernel's bytes (fields the record lacks
/// are written as 0, padding as 0). A record from a kernel newer than
/// <see cref="TaskstatsLayout.LatestVersion"/> is written in the latest layout this library knows,
/// labelled with that version, so a reader never meets a struct longer than its version says.
/// </para>
/// <para>
/// getdelays itself writes <c>nla_len</c> bytes from the start of the payload, i.e. 4 bytes past the
/// struct; this sink writes exactly the struct, which is what readers of the format expect.
/// </para>
/// </remarks>
public sealed class RawSink : TaskstatsSink
{
    private readonly string _path;
    // Large enough for the biggest known struct; reused for every record.
    private readonly byte[] _scratch = new byte[TaskstatsLayout.ForVersion(TaskstatsLayout.LatestVersion).Size];
    private RotatingFileWriter? _file;
    private long _unencodable;

    /// <summary>Reads the sink's keys; the file is opened when the actor starts.</summary>
    public RawSink(SinkContext context) : base(context)
    {
        _path = context.Config.GetString("path", null) is { Length: > 0 } path
            ? path
            : throw new ConfigException($"taskstats.sinks.{context.Name}.path", null, "missing", "the file to write, e.g. \"data/exits.taskstats\"");
    }

    /// <inheritdoc />
    protected override void OnStart() => _file = new RotatingFileWriter(_path);

    /// <inheritdoc />
    protected override void OnRecords(ExitBatch batch)
    {
        var file = _file ?? throw new InvalidOperationException($"sink {Sink.Name}: the file is not open");
        var messages = batch.Messages;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Task is { } task)
                Write(file, task.Stats);
            if (message.Process is { } process)
                Write(file, process.Stats);
        }
        file.Flush();
    }

    /// <inheritdoc />
    protected override void OnFlush() => _file?.Flush();

    /// <inheritdoc />
    protected override void OnStop()
    {
        _file?.Dispose();
        _file = null;
        if (_unencodable > 0)
            Log.Warning("sink {0}: skipped {1} records with struct version 0, which has no layout", Sink.Name, _unencodable);
    }

    private void Write(RotatingFileWriter file, TaskStats stats)
    {
        // Version 0 never comes from a kernel (the decoder refuses it); only a record built in code has it.
        if (!TaskstatsLayout.TryForDecoding(stats.Version, out var layout))
        {
            _unencodable++;
            return;
        }
        var size = TaskstatsEncoder.Encode(stats, layout.Version, _scratch);
        file.Write(_scratch.AsSpan(0, size));
    }
}
