using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Report;

/// <summary>
/// The terminal form of a report: a title line saying what was asked and over which span, a table of the top
/// groups with a bar chart of the ranked figure (each bar against the first row's) and each group's share of the
/// range's total, and a hint when every delay of the kind asked for is 0 (delay accounting off).
/// </summary>
internal static class ReportTableWriter
{
    private const int BarWidth = 24;
    private static readonly string[] Eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

    public static void Write(IAnsiConsole console, GroupReport report)
    {
        var sort = report.Sort;
        console.MarkupLine($"[bold]Top {report.Top} {report.By.Plural} by {Markup.Escape(sort.Title)}[/], {Markup.Escape(Span(report.Range, report.First, report.Last))}");
        if (report.Exits == 0)
        {
            console.WriteLine("no exit records in this range");
            return;
        }
        console.WriteLine($"{ReportUnits.Count(report.Exits)} exits, {report.By.Count(report.Groups)}, {sort.Name} total {ReportUnits.Value(report.MetricTotal, sort.Unit)}");

        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey);
        table.AddColumn(new TableColumn(report.By.Heading));
        if (report.By.HasCommand)
            table.AddColumn(new TableColumn("command"));
        table.AddColumn(new TableColumn("exits").RightAligned());
        if (report.By.HasLost)
            table.AddColumn(new TableColumn("lost").RightAligned());
        var delay = sort.Category;
        if (delay is not null)
        {
            table.AddColumn(new TableColumn("delays").RightAligned());
            table.AddColumn(new TableColumn($"[bold]{sort.Name} total[/]").RightAligned());
            table.AddColumn(new TableColumn("average").RightAligned());
            table.AddColumn(new TableColumn("max").RightAligned());
        }
        else if (sort == ReportMetric.CpuTime)
        {
            table.AddColumn(new TableColumn("[bold]cpu time[/]").RightAligned());
            table.AddColumn(new TableColumn("per exit").RightAligned());
        }
        else
        {
            table.AddColumn(new TableColumn("read").RightAligned());
            table.AddColumn(new TableColumn("written").RightAligned());
            table.AddColumn(new TableColumn("[bold]total[/]").RightAligned());
        }
        table.AddColumn(new TableColumn(sort.Name));
        table.AddColumn(new TableColumn("share").RightAligned());

        var unicode = console.Profile.Capabilities.Unicode;
        var largest = report.Rows.Count == 0 ? 0 : report.Rows.Max(sort.ValueOf);
        foreach (var row in report.Rows)
        {
            var cells = new List<IRenderable> { new Text(row.Key ?? "(unknown)") };
            if (report.By.HasCommand)
                cells.Add(new Text(row.Command ?? ""));
            cells.Add(new Text(ReportUnits.Count(row.Exits)));
            if (report.By.HasLost)
                cells.Add(row.Lost is > 0 ? new Markup($"[red]{ReportUnits.Count(row.Lost.Value)}[/]") : new Text("0"));
            var value = sort.ValueOf(row);
            if (delay is { } category)
            {
                var figures = row.Delays.GetValueOrDefault(category);
                cells.Add(new Text(figures is { } f ? ReportUnits.Count(f.Count) : "-"));
                cells.Add(new Markup($"[bold]{Markup.Escape(figures is null ? "-" : ReportUnits.Nanoseconds(value))}[/]"));
                cells.Add(new Text(figures?.AverageNs is { } average ? ReportUnits.Nanoseconds(average) : "-"));
                cells.Add(new Text(figures?.MaxNs is { } max ? ReportUnits.Nanoseconds(max) : "-"));
            }
            else if (sort == ReportMetric.CpuTime)
            {
                cells.Add(new Markup($"[bold]{Markup.Escape(ReportUnits.Microseconds(value))}[/]"));
                cells.Add(new Text(row.Exits > 0 ? ReportUnits.Microseconds(value / row.Exits) : "-"));
            }
            else
            {
                cells.Add(new Text(ReportUnits.Bytes(row.ReadBytes)));
                cells.Add(new Text(ReportUnits.Bytes(row.WriteBytes)));
                cells.Add(new Markup($"[bold]{Markup.Escape(ReportUnits.Bytes(value))}[/]"));
            }
            var share = report.MetricTotal > 0 ? value / report.MetricTotal : 0;
            cells.Add(new Markup($"[blue]{Markup.Escape(Bar(largest > 0 ? value / largest : 0, unicode))}[/]"));
            cells.Add(new Text($"{share * 100:0.0}%"));
            table.AddRow(cells);
        }
        console.Write(table);

        if (delay is not null && report.MetricTotal == 0)
            console.MarkupLine($"[yellow]every {sort.Name} delay in this range is 0:[/] delay accounting was probably off while they were " +
                               "collected (kernel.task_delayacct = 0; see 'taskstats-actors check')");
        if (report.Groups > report.Rows.Count)
            console.WriteLine($"({report.By.Count(report.Groups - report.Rows.Count)} not shown; --top N shows more)");
    }

    public static void Write(IAnsiConsole console, LossReport report)
    {
        console.MarkupLine($"[bold]Lost exit records[/], {Markup.Escape(Span(report.Range, null, null))}");
        if (report.Rows.Count == 0)
        {
            console.WriteLine($"none lost ({ReportUnits.Count(report.Exits)} exits recorded)");
            return;
        }
        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey);
        table.AddColumn("time");
        table.AddColumn(new TableColumn("shard").RightAligned());
        table.AddColumn("cpus");
        table.AddColumn(new TableColumn("[bold]lost[/]").RightAligned());
        table.AddColumn("counted by");
        table.AddColumn("");
        var unicode = console.Profile.Capabilities.Unicode;
        var largest = report.Rows.Max(row => row.Count);
        foreach (var loss in report.Rows)
        {
            table.AddRow(
                new Text(ReportUnits.Time(loss.Time)),
                new Text(loss.Shard.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Text(loss.Cpus),
                new Markup($"[bold red]{ReportUnits.Count(loss.Count)}[/]"),
                new Text(loss.Source),
                new Markup($"[red]{Markup.Escape(Bar(largest > 0 ? (double)loss.Count / largest : 0, unicode))}[/]"));
        }
        console.Write(table);
        var recorded = report.Exits + report.Total;
        console.WriteLine($"{ReportUnits.Count(report.Total)} lost in {ReportUnits.Count(report.Rows.Count)} incidents, " +
                          $"{ReportUnits.Count(report.Exits)} exits recorded" +
                          (recorded > 0 ? $" ({(double)report.Total / recorded * 100:G3}% lost)" : ""));
    }

    /// <summary>A bar of <paramref name="fraction"/> × <see cref="BarWidth"/> cells, in eighths of a cell (or '#' without Unicode).</summary>
    internal static string Bar(double fraction, bool unicode)
    {
        fraction = Math.Clamp(double.IsFinite(fraction) ? fraction : 0, 0, 1);
        if (!unicode)
            return new string('#', (int)Math.Round(fraction * BarWidth));
        var eighths = (int)Math.Round(fraction * BarWidth * 8);
        var bar = new StringBuilder(new string('█', eighths / 8)).Append(Eighths[eighths % 8]);
        // A group with any of it at all gets a sliver, so it does not look like none.
        if (bar.Length == 0 && fraction > 0)
            bar.Append('▏');
        return bar.ToString();
    }

    /// <summary>"2025-01-31 13:00:00 to 14:00:00 (1h)", "all of the history (… to …)", "since …".</summary>
    internal static string Span(ReportRange range, DateTimeOffset? first, DateTimeOffset? last)
    {
        string Point(DateTimeOffset time, DateTimeOffset? previous) =>
            previous is { } p && p.ToLocalTime().Date == time.ToLocalTime().Date
                ? time.ToLocalTime().ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)
                : ReportUnits.Time(time);
        return (range.From, range.To) switch
        {
            ({ } from, { } to) => $"{ReportUnits.Time(from)} to {Point(to, from)} ({ReportTime.Describe(to - from)})",
            ({ } from, null) when range.Last is { } span => $"the last {ReportTime.Describe(span)} (since {ReportUnits.Time(from)})",
            ({ } from, null) => $"since {ReportUnits.Time(from)}",
            (null, { } to) => $"until {ReportUnits.Time(to)}",
            _ => first is { } f && last is { } l ? $"all of the history ({ReportUnits.Time(f)} to {Point(l, f)})" : "all of the history",
        };
    }
}
