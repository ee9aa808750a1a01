using System.Text;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Top;

/// <summary>Formats one interval as a plain-text table: the same text for the terminal view and for <c>--batch</c>.</summary>
public static class TopRenderer
{
    private static readonly TopColumn[] Columns = Enum.GetValues<TopColumn>();

    /// <summary>The header line, the column headings (the sort column marked with *) and the top rows.</summary>
    public static string Render(IReadOnlyList<TopRow> rows, TopColumn sort, int top, DateTime time, TimeSpan interval, bool? delayAccounting)
    {
        var text = new StringBuilder();
        text.Append($"taskstats-actors top - {time:HH:mm:ss}  interval {interval.TotalSeconds:0.#}s  {rows.Count} processes  sorted by {TopColumns.Name(sort)}");
        if (delayAccounting == false)
            text.Append("  (kernel.task_delayacct is off: most delays read 0)");
        text.AppendLine();
        text.Append($"{"TGID",8} {"COMMAND",-16}");
        foreach (var column in Columns)
            text.Append($" {(column == sort ? "*" : "") + TopColumns.Heading(column),9}");
        text.AppendLine();
        foreach (var row in rows.OrderByDescending(r => r.Value(sort)).ThenBy(r => r.Tgid).Take(top))
        {
            text.Append($"{row.Tgid,8} {Truncate(row.Command, 16),-16}");
            foreach (var column in Columns)
                text.Append($" {Cell(row, column),9}");
            text.AppendLine();
        }
        return text.ToString();
    }

    /// <summary>The key help shown under the interactive view.</summary>
    public static string KeyHelp() =>
        "keys: " + string.Join("  ", Columns.Select(c => $"{TopColumns.Key(c)}={TopColumns.Name(c)}")) + "  q=quit";

    private static string Cell(TopRow row, TopColumn column) => column switch
    {
        TopColumn.CpuTime => $"{row.CpuPercent:0.0}",
        TopColumn.Io => Bytes(row.ReadPerSecond + row.WritePerSecond),
        _ => row.DelayPercent.TryGetValue(TopRow.ToCategory(column), out var percent) ? $"{percent:0.00}" : "-",
    };

    private static string Bytes(double perSecond) => perSecond switch
    {
        >= 1 << 30 => $"{perSecond / (1 << 30):0.0}G",
        >= 1 << 20 => $"{perSecond / (1 << 20):0.0}M",
        >= 1 << 10 => $"{perSecond / (1 << 10):0.0}K",
        _ => $"{perSecond:0}B",
    };

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];
}
