using System.CommandLine;
using Microsoft.Data.Sqlite;
using Spectre.Console;
using TaskstatsActors.Cli.Report;
using TaskstatsActors.Collector.Sinks.Sqlite;

namespace TaskstatsActors.Cli.Commands;

/// <summary>
/// <c>report [--db FILE] [--since 1h | --from TIME --to TIME] [--by comm|uid|tgid|shard] [--sort METRIC] [--top N]
/// [--json | --csv] [--losses]</c>: questions the history the collector's SQLite sink keeps, e.g. "what suffered
/// the most run-queue delay in the last hour" is <c>report --since 1h --sort cpu --top 10</c>.
/// </summary>
internal static class ReportCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var db = new Option<string>("--db") { Description = "The history database the collector's history sink writes.", HelpName = "FILE", DefaultValueFactory = _ => HistoryOptions.DefaultPath };
        var since = new Option<string?>("--since") { HelpName = "SPAN", Description = $"Only the last span of time: {ReportTime.DurationExamples}." };
        var from = new Option<string?>("--from") { HelpName = "TIME", Description = $"Only from this time on (inclusive): {ReportTime.TimeExamples}. Local time unless an offset is given." };
        var to = new Option<string?>("--to") { HelpName = "TIME", Description = "Only before this time (exclusive); same forms as --from." };
        var by = Choice("--by", "Group the exits by command (comm), user (uid), process (tgid) or shard.",
            ReportGrouping.Command.Name, [.. ReportGrouping.All.Select(grouping => grouping.Name)]);
        var sort = Choice("--sort",
            "Rank by the total of a delay (cpu = run queue, blkio, swapin, reclaim, thrashing, compact, wpcopy, irq), by CPU time (cputime) or by storage I/O bytes (io).",
            "cpu", [.. ReportMetric.All.Select(metric => metric.Name)], "METRIC");
        var top = new Option<int>("--top") { HelpName = "N", Description = "How many groups to show.", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object with every figure of each group." };
        var csv = new Option<bool>("--csv") { Description = "Print CSV: a header line, then one line per group." };
        var losses = new Option<bool>("--losses") { Description = "Show the loss history instead: when, on which shard, how many exit records were lost." };
        var command = new Command("report", "Question the collected history: the top commands, users, processes or shards by a delay, CPU time or I/O; or the losses.")
        {
            db, since, from, to, by, sort, top, json, csv, losses,
        };
        command.Validators.Add(result =>
        {
            if (result.Errors.Any())
                return;
            if (result.ValueOrDefault(since) is not null && (result.ValueOrDefault(from) is not null || result.ValueOrDefault(to) is not null))
                result.AddError("give --since, or --from and/or --to, not both");
            if (result.ValueOrDefault(since) is { } s && ReportTime.ParseDuration(s) is null)
                result.AddError($"--since: '{s}' is not a duration (examples: {ReportTime.DurationExamples})");
            foreach (var (option, name) in new[] { (from, "--from"), (to, "--to") })
            {
                if (result.ValueOrDefault(option) is { } text && ReportTime.ParsePoint(text, DateTimeOffset.Now) is null)
                    result.AddError($"{name}: '{text}' is not a time (examples: {ReportTime.TimeExamples})");
            }
            // Options left out are not checked: their defaults are valid (and a validator does not see them).
            if (result.GetResult(top) is { Implicit: false } && result.ValueOrDefault(top) < 1)
                result.AddError("--top: give a number of groups, at least 1");
            if (result.ValueOrDefault(json) && result.ValueOrDefault(csv))
                result.AddError("give --json or --csv, not both");
            if (result.GetResult(db) is { Implicit: false } && string.IsNullOrWhiteSpace(result.ValueOrDefault(db)))
                result.AddError("--db: give the history database's path");
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var range = Range(parse.GetValue(since), parse.GetValue(from), parse.GetValue(to), DateTimeOffset.Now);
            var asJson = parse.GetValue(json);
            var asCsv = parse.GetValue(csv);
            var path = parse.GetValue(db)!;
            // A spinner while a big history is opened and summed, on a terminal only.
            var feedback = ProgressFeedback.For(environment, forPeople: !asJson && !asCsv);
            var grouping = ReportGrouping.Parse(parse.GetValue(by)!);
            var metric = ReportMetric.Parse(parse.GetValue(sort)!);
            var count = parse.GetValue(top);

            if (parse.GetValue(losses))
            {
                var report = await feedback.RunAsync($"opening {path}", status => Query(path, status, c => ReportQuery.Losses(c, range, status)), cancellationToken);
                if (asJson)
                    ReportJsonWriter.Write(environment.Out, report);
                else if (asCsv)
                    ReportCsvWriter.Write(environment.Out, report);
                else
                    ReportTableWriter.Write(Console(environment), report);
            }
            else
            {
                var report = await feedback.RunAsync($"opening {path}", status => Query(path, status, c => ReportQuery.Groups(c, range, grouping, metric, count, status)), cancellationToken);
                if (asJson)
                    ReportJsonWriter.Write(environment.Out, report);
                else if (asCsv)
                    ReportCsvWriter.Write(environment.Out, report);
                else
                    ReportTableWriter.Write(Console(environment), report);
            }
            return ExitCode.Success;
        });
        return command;
    }

    /// <summary>
    /// An option taking one of a few names, refused in one line that lists them (the parser's own message for
    /// that spreads over a dozen lines); the names still complete in a shell.
    /// </summary>
    private static Option<string> Choice(string name, string description, string fallback, string[] names, string? helpName = null)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            DefaultValueFactory = _ => fallback,
            HelpName = helpName ?? string.Join('|', names),
        };
        option.CompletionSources.Add(names);
        option.Validators.Add(result =>
        {
            var value = result.Tokens.Count > 0 ? result.Tokens[^1].Value : fallback;
            if (!names.Contains(value, StringComparer.OrdinalIgnoreCase))
                result.AddError($"{name}: '{value}' is not one of {string.Join(", ", names)}");
        });
        return option;
    }

    /// <summary>The range the options ask for; validation has checked that each parses.</summary>
    internal static ReportRange Range(string? since, string? from, string? to, DateTimeOffset now)
    {
        if (since is not null)
        {
            var span = ReportTime.ParseDuration(since)!.Value;
            return new ReportRange(now - span, null) { Last = span };
        }
        var start = from is null ? null : ReportTime.ParsePoint(from, now);
        var end = to is null ? null : ReportTime.ParsePoint(to, now);
        if (start is { } s && end is { } e && s >= e)
            throw new CliException($"--from {from} is not before --to {to}: the range would be empty", ExitCode.BadArguments);
        return new ReportRange(start, end);
    }

    private static T Query<T>(string path, IProgress<string> status, Func<SqliteConnection, T> query)
    {
        SqliteConnection connection;
        try
        {
            connection = HistoryDatabase.OpenForReading(path);
        }
        catch (FileNotFoundException)
        {
            throw new CliException($"no history at {Path.GetFullPath(path)}: the collector's history sink writes it (see 'taskstats-actors collect'), or give --db FILE", ExitCode.Failure);
        }
        catch (HistoryFormatException e)
        {
            throw new CliException(e.Message, ExitCode.Failure);
        }
        catch (SqliteException e)
        {
            throw new CliException($"cannot read {Path.GetFullPath(path)}: {e.Message}", ExitCode.Failure);
        }
        using (connection)
        {
            try
            {
                return query(connection);
            }
            catch (SqliteException e)
            {
                throw new CliException($"cannot read {Path.GetFullPath(path)}: {e.Message}", ExitCode.Failure);
            }
        }
    }

    /// <summary>Spectre.Console over the command's stdout: colours and the terminal's width on a terminal, plain text elsewhere.</summary>
    private static IAnsiConsole Console(CliEnvironment environment)
    {
        var terminal = ReferenceEquals(environment.Out, System.Console.Out) && !System.Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(environment.Out),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!terminal)
        {
            // A file or a pipe has no width; wide enough that a row never wraps.
            console.Profile.Width = 160;
            console.Profile.Capabilities.Unicode = environment.Out.Encoding.WebName is "utf-8" or "utf-16" or "utf-16BE" or "utf-32";
        }
        return console;
    }
}
