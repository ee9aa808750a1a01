using Microsoft.Data.Sqlite;
using TaskstatsActors.Collector.Sinks.Sqlite;

namespace TaskstatsActors.Cli.Tests.Report;

/// <summary>What goes wrong with <c>report</c> is said in one line on stderr, with an exit status a script can tell apart.</summary>
public sealed class ReportErrorTests : IDisposable
{
    private readonly ReportHistory _history = new();

    public void Dispose() => _history.Dispose();

    private static void AssertOneLine(CliResult result, int exitCode, string expected)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("taskstats-actors: ", line);
        Assert.Contains(expected, line);
        Assert.Equal("", result.Out);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task A_missing_history_should_exit_1_naming_the_file_and_what_writes_it()
    {
        var missing = Path.Combine(_history.Directory, "nope.db");

        var result = await ReportCli.RunAsync(["report", "--db", missing]);

        AssertOneLine(result, ExitCode.Failure, $"no history at {missing}");
        Assert.Contains("history sink", result.Error);
        Assert.False(File.Exists(missing), "report must not create a history");
    }

    [Fact]
    public async Task A_file_that_is_not_a_history_should_exit_1_saying_so()
    {
        var text = Path.Combine(_history.Directory, "notes.txt");
        File.WriteAllText(text, new string('x', 4096));
        var other = Path.Combine(_history.Directory, "other.db");
        using (var connection = new SqliteConnection($"Data Source={other};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE t (x)";
            command.ExecuteNonQuery();
        }

        AssertOneLine(await ReportCli.RunAsync(["report", "--db", text]), ExitCode.Failure, "is not a SQLite database");
        AssertOneLine(await ReportCli.RunAsync(["report", "--db", other]), ExitCode.Failure, "not a taskstats history");
    }

    [Theory]
    [InlineData("--since", "5x", "--since: '5x' is not a duration")]
    [InlineData("--since", "0s", "--since: '0s' is not a duration")]
    [InlineData("--from", "yesterday-ish", "--from: 'yesterday-ish' is not a time")]
    [InlineData("--to", "2025-13-01", "--to: '2025-13-01' is not a time")]
    [InlineData("--sort", "latency", "--sort: 'latency' is not one of cpu, blkio, swapin, reclaim, thrashing, compact, wpcopy, irq, cputime, io")]
    [InlineData("--by", "user", "--by: 'user' is not one of comm, uid, tgid, shard")]
    [InlineData("--top", "0", "--top: give a number of groups, at least 1")]
    [InlineData("--top", "many", "many")]
    public async Task A_bad_value_should_exit_2_in_one_line(string option, string value, string expected)
    {
        var result = await ReportCli.RunAsync(["report", "--db", _history.Path, option, value]);

        AssertOneLine(result, ExitCode.BadArguments, expected);
    }

    [Theory]
    [InlineData(new[] { "--since", "1h", "--from", "2025-01-01" }, "give --since, or --from and/or --to, not both")]
    [InlineData(new[] { "--json", "--csv" }, "give --json or --csv, not both")]
    [InlineData(new[] { "--from", "2025-01-02", "--to", "2025-01-01" }, "--from 2025-01-02 is not before --to 2025-01-01")]
    public async Task Options_that_contradict_each_other_should_exit_2_in_one_line(string[] options, string expected)
    {
        var result = await ReportCli.RunAsync(["report", "--db", _history.Path, .. options]);

        AssertOneLine(result, ExitCode.BadArguments, expected);
    }

    [Fact]
    public async Task A_history_of_a_newer_schema_should_exit_1_asking_for_a_newer_version()
    {
        using (var connection = new SqliteConnection($"Data Source={_history.Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {HistorySchema.Version + 1}";
            command.ExecuteNonQuery();
        }

        AssertOneLine(await ReportCli.RunAsync(["report", "--db", _history.Path]), ExitCode.Failure, "newer than this taskstats-actors knows");
    }
}
