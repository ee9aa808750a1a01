using System.Globalization;
using System.Text;
using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// Prints for people: a table per window summary (the top commands by exits with their CPU time and
/// main delays, then the top commands by CPU delay), one <c>LOST …</c> line per loss and one
/// <c>RESTARTED …</c> line per listener restart. Single records are not printed unless
/// <c>records = on</c>, and then as one short line each.
/// </summary>
/// <remarks>
/// Config keys: <c>target</c> (<c>stdout</c>|<c>stderr</c>; default stdout), <c>records</c>
/// (<c>on</c>|<c>off</c>; default off), <c>top</c> (rows per table; default 10). Times are local.
/// </remarks>
public sealed class ConsoleSink : TaskstatsSink
{
    private readonly TextWriter _output;
    private readonly bool _records;
    private readonly int _top;
    // One builder per sink: a table is assembled and written in one call, so that it is not
    // interleaved with log lines another thread writes to the same console.
    private readonly StringBuilder _text = new();

    /// <summary>Writes to the stream named by the <c>target</c> key.</summary>
    public ConsoleSink(SinkContext context) : this(context, TargetOf(context)) { }

    /// <summary>Writes to <paramref name="output"/> (for tests and hosts that capture the output); <c>target</c> is ignored.</summary>
    public ConsoleSink(SinkContext context, TextWriter output) : base(context)
    {
        _output = output ?? throw new ArgumentNullException(nameof(output));
        _records = context.Config.GetBoolean("records", false);
        _top = context.Config.GetInt("top", 10);
        if (_top < 1)
            throw new ConfigException($"taskstats.sinks.{context.Name}.top", _top.ToString(CultureInfo.InvariantCulture), "must be at least 1", "a number of table rows, e.g. 10");
    }

    /// <inheritdoc />
    protected override void OnRecords(ExitBatch batch)
    {
        if (!_records)
            return;
        _text.Clear();
        var messages = batch.Messages;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Task is { } task)
                AppendRecord(batch.Shard, message.Sequence, task);
            if (message.Process is { } process)
                AppendRecord(batch.Shard, message.Sequence, process);
        }
        Emit();
    }

    /// <inheritdoc />
    protected override void OnLoss(RecordsLost loss)
    {
        _text.Clear();
        _text.Append(CultureInfo.InvariantCulture,
            $"LOST {loss.Count} records on {loss.Shard} at {Clock(loss.Time)} ({SourceText(loss.Source)})").AppendLine();
        Emit();
    }

    /// <inheritdoc />
    protected override void OnListenerRestarted(ListenerRestarted restart)
    {
        _text.Clear();
        _text.Append(CultureInfo.InvariantCulture,
            $"RESTARTED listener of {restart.Shard} at {Clock(restart.Time)}: {restart.Reason}; receive buffer {Bytes(restart.ReceiveBuffer)}").AppendLine();
        Emit();
    }

    /// <inheritdoc />
    protected override void OnWindow(WindowSummary summary)
    {
        var data = summary.Data;
        _text.Clear();
        _text.AppendLine();
        _text.Append(CultureInfo.InvariantCulture,
            $"== {Clock(data.Start)} - {Clock(data.End)}: {data.Exits} exits, {data.Lost} lost ==").AppendLine();
        AppendByExits(data.ByCommand);
        if (data.TopByDelay.TryGetValue(DelayCategory.Cpu, out var byCpuDelay) && byCpuDelay.Count > 0)
            AppendByCpuDelay(byCpuDelay);
        Emit();
    }

    /// <inheritdoc />
    protected override void OnFlush() => _output.Flush();

    private static readonly int[] ByExitsWidths = [-16, 8, 10, 13, 9, 10, 10, 9, 9];
    private static readonly int[] ByCpuDelayWidths = [-16, 8, 13, 10, 9, 9];

    private void AppendByExits(IReadOnlyList<GroupFigures> groups)
    {
        _text.AppendLine("top commands by exits");
        if (groups.Count == 0)
        {
            _text.AppendLine("  (none)");
            return;
        }
        Row(ByExitsWidths, "COMMAND", "EXITS", "CPU ms", "CPU-DELAY ms", "max ms", "BLKIO ms", "SWAPIN ms", "MEM ms", "IRQ ms");
        foreach (var g in groups.Take(_top))
        {
            var cpu = DelayOf(g, DelayCategory.Cpu);
            Row(ByExitsWidths, Fit(g.Key, 16), Count(g.Exits), Ms(g.CpuTimeUs * 1000), Ms(cpu.TotalNs), Ms(cpu.MaxNs),
                Ms(DelayOf(g, DelayCategory.BlockIo).TotalNs),
                Ms(DelayOf(g, DelayCategory.SwapIn).TotalNs),
                Ms(MemoryDelayNs(g)),
                Ms(DelayOf(g, DelayCategory.Irq).TotalNs));
        }
    }

    private void AppendByCpuDelay(IReadOnlyList<GroupFigures> groups)
    {
        _text.AppendLine("top commands by CPU delay");
        Row(ByCpuDelayWidths, "COMMAND", "EXITS", "CPU-DELAY ms", "DELAYS", "avg us", "max ms");
        foreach (var g in groups.Take(_top))
        {
            var cpu = DelayOf(g, DelayCategory.Cpu);
            var average = cpu.Count == 0 ? "-" : ((double)cpu.TotalNs / cpu.Count / 1000).ToString("0.0", CultureInfo.InvariantCulture);
            Row(ByCpuDelayWidths, Fit(g.Key, 16), Count(g.Exits), Ms(cpu.TotalNs), Count((long)cpu.Count), average, Ms(cpu.MaxNs));
        }
    }

    // Widths as in composite formatting: negative pads on the right (left-aligned), positive on the left.
    private void Row(int[] widths, params string[] cells)
    {
        _text.Append(' ');
        for (var i = 0; i < cells.Length; i++)
        {
            var width = widths[i];
            _text.Append(' ');
            if (width < 0 && i == cells.Length - 1)
                _text.Append(cells[i]);
            else if (width < 0)
                _text.Append(cells[i].PadRight(-width));
            else
                _text.Append(cells[i].PadLeft(width));
        }
        _text.AppendLine();
    }

    private void AppendRecord(ShardInfo shard, uint sequence, TaskstatsRecord record)
    {
        var s = record.Stats;
        var scope = record.Scope == TaskstatsScope.Pid ? "pid" : "tgid";
        var cpuUs = (s.AcUtime ?? 0) + (s.AcStime ?? 0);
        _text.Append(CultureInfo.InvariantCulture,
            $"shard {shard.Index} seq {sequence} {scope} {record.Id} {s.AcComm ?? "?"} exit {ExitText(s.AcExitcode)} cpu {Ms(cpuUs * 1000)}ms cpu-delay {Ms(s.CpuDelayTotal)}ms");
        if (s.BlkioDelayTotal > 0)
            _text.Append(CultureInfo.InvariantCulture, $" blkio-delay {Ms(s.BlkioDelayTotal)}ms");
        _text.AppendLine();
    }

    private void Emit()
    {
        // Console.Out autoflushes; a captured writer may not, and a reader should see whole events.
        _output.Write(_text.ToString());
        _output.Flush();
    }

    private static TextWriter TargetOf(SinkContext context) =>
        context.Config.GetString("target", "stdout").Trim().ToLowerInvariant() switch
        {
            "stdout" => Console.Out,
            "stderr" => Console.Error,
            var other => throw new ConfigException($"taskstats.sinks.{context.Name}.target", other, "not a console stream", "stdout or stderr"),
        };

    private static DelayFigures DelayOf(GroupFigures group, DelayCategory category) =>
        group.Delays.TryGetValue(category, out var figures) ? figures : default;

    // Memory pressure as one column: reclaim, thrashing, compaction and write-protect copies.
    private static ulong MemoryDelayNs(GroupFigures group) =>
        DelayOf(group, DelayCategory.Reclaim).TotalNs + DelayOf(group, DelayCategory.Thrashing).TotalNs +
        DelayOf(group, DelayCategory.Compact).TotalNs + DelayOf(group, DelayCategory.WriteProtectCopy).TotalNs;

    private static string Fit(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "~";

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Ms(ulong ns) => (ns / 1e6).ToString("0.###", CultureInfo.InvariantCulture);

    // A maximum is absent for struct versions before 15: show that, rather than a 0 that looks measured.
    private static string Ms(ulong? ns) => ns is { } value ? Ms(value) : "-";

    private static string Clock(DateTimeOffset time) => time.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    private static string ExitText(uint? status) => status switch
    {
        null => "?",
        // wait(2) form: a signal in the low 7 bits, else the exit status in bits 8-15.
        uint s when (s & 0x7f) != 0 => $"signal {s & 0x7f}",
        uint s => ((s >> 8) & 0xff).ToString(CultureInfo.InvariantCulture),
    };

    private static string Bytes(int bytes) => bytes switch
    {
        >= 1 << 20 when bytes % (1 << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1 << 10 when bytes % (1 << 10) == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} bytes",
    };

    private static string SourceText(LossSource source) => source switch
    {
        LossSource.SocketDropCounter => "socket drop counter",
        LossSource.SequenceGap => "sequence gap",
        LossSource.Malformed => "malformed messages",
        _ => source.ToString(),
    };
}
