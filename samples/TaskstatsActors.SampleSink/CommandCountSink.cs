using System.Globalization;
using System.Text;
using System.Text.Json;
using Akka.Event;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Sinks;

namespace TaskstatsActors.SampleSink;

/// <summary>
/// A sample custom sink: counts task exits per command name and, when the collector stops, writes a
/// small report to its <c>path</c>, as JSON or (for a path ending in <c>.csv</c>) as CSV.
/// </summary>
/// <remarks>
/// <para><b>Writing a sink of your own</b></para>
/// <list type="number">
/// <item>Reference <c>TaskstatsActors.Collector</c> and derive a class from <see cref="TaskstatsSink"/>.</item>
/// <item>
/// Give it a public constructor taking a <see cref="SinkContext"/> and pass that to the base. Read your
/// keys from <c>context.Config</c>, which is your own HOCON block (so <c>GetString("path")</c> reads
/// <c>taskstats.sinks.NAME.path</c>); refuse bad values there with a <see cref="ConfigException"/>
/// naming the full key: the sink then fails to start and the collector reports why.
/// </item>
/// <item>
/// Override what you need: <c>OnStart</c> (open resources), <c>OnRecords</c> (a batch of exit messages
/// from one shard), <c>OnLoss</c>, <c>OnWindow</c>, <c>OnListenerRestarted</c>, <c>OnFlush</c> (the
/// stream ended: write out what you hold) and <c>OnStop</c> (close what <c>OnStart</c> opened). The base
/// class acknowledges each event after your handler returns, so a slow handler slows the stream (within
/// the sink's buffer) instead of losing records. Handlers run one at a time, never concurrently.
/// </item>
/// <item>
/// If a handler throws, the actor is restarted, and the event that failed is handed to the new
/// instance. Fields start afresh on a restart: keep nothing in memory that you cannot afford to lose,
/// or write it out as you go. (This sample keeps its counts in memory for brevity.)
/// </item>
/// <item>
/// Name it in the collector's config, with <c>assembly-path</c> pointing at your built DLL (relative to
/// the config file's directory, or absolute) unless the DLL sits beside the executable, and run the JIT
/// build (<c>dotnet run -c Release --project src/TaskstatsActors.Cli -- collect</c>): the native build
/// that <c>./taskstats-actors</c> runs holds only the code it was compiled with.
/// <code>
/// taskstats.sinks.commands {
///   class = "TaskstatsActors.SampleSink.CommandCountSink, TaskstatsActors.SampleSink"
///   assembly-path = "plugins/TaskstatsActors.SampleSink.dll"
///   path = "data/commands.json"      # or .csv
///   only-comm-prefix = ""            # count only commands starting with this
/// }
/// </code>
/// </item>
/// </list>
/// </remarks>
public sealed class CommandCountSink : TaskstatsSink
{
    private readonly string _path;
    private readonly string _prefix;
    private readonly Dictionary<string, long> _exits = new(StringComparer.Ordinal);
    private long _lost;

    /// <summary>Reads <c>path</c> (required) and <c>only-comm-prefix</c> (optional) from the sink's block.</summary>
    public CommandCountSink(SinkContext context) : base(context)
    {
        _path = context.Config.GetString("path", null) is { Length: > 0 } path
            ? path
            : throw new ConfigException($"taskstats.sinks.{context.Name}.path", null, "missing", "the report file, e.g. \"data/commands.json\" or \"data/commands.csv\"");
        _prefix = context.Config.GetString("only-comm-prefix", "");
    }

    /// <inheritdoc />
    protected override void OnRecords(ExitBatch batch)
    {
        foreach (var message in batch.Messages)
        {
            // One exit per message: the task record names it (a process record is the same exit again).
            var comm = message.Task?.Stats.AcComm ?? message.Process?.Stats.AcComm ?? "?";
            if (!comm.StartsWith(_prefix, StringComparison.Ordinal))
                continue;
            _exits[comm] = _exits.GetValueOrDefault(comm) + 1;
        }
    }

    /// <inheritdoc />
    protected override void OnLoss(RecordsLost loss) => _lost += loss.Count;

    /// <inheritdoc />
    protected override void OnFlush()
    {
        var full = Path.GetFullPath(_path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var report = full.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? Csv() : Json();
        // Write beside, then rename: a reader never sees half a report.
        var temporary = full + ".tmp";
        File.WriteAllText(temporary, report, new UTF8Encoding(false));
        File.Move(temporary, full, overwrite: true);
        Log.Info("sink {0}: {1} commands counted, report in {2}", Sink.Name, _exits.Count, full);
    }

    private IEnumerable<KeyValuePair<string, long>> Ranked() =>
        _exits.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, StringComparer.Ordinal);

    private string Json()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("lost", _lost);
            json.WriteStartObject("exits");
            foreach (var (comm, count) in Ranked())
                json.WriteNumber(comm, count);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private string Csv()
    {
        var text = new StringBuilder("comm,exits\n");
        foreach (var (comm, count) in Ranked())
            text.Append(CsvField(comm)).Append(',').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }

    // Command names may hold commas or quotes (prctl can set anything): quote them as RFC 4180 says.
    private static string CsvField(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
