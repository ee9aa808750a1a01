using TaskstatsActors.Cli.Commands;
using TaskstatsActors.Cli.Report;

namespace TaskstatsActors.Cli.Tests.Report;

/// <summary>How <c>--since</c>, <c>--from</c> and <c>--to</c> read, and <c>--since</c> against records written a moment ago.</summary>
public sealed class ReportTimeTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 15, 14, 30, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("15m", 15 * 60)]
    [InlineData("1h", 3600)]
    [InlineData("1h30m", 5400)]
    [InlineData("2d", 2 * 86400)]
    [InlineData("1w", 7 * 86400)]
    [InlineData("1.5h", 5400)]
    [InlineData("500ms", 0.5)]
    public void Durations_should_read_as_number_unit_pairs(string text, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), ReportTime.ParseDuration(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("h")]
    [InlineData("1x")]
    [InlineData("-1h")]
    [InlineData("0m")]
    [InlineData("1h 2")]
    public void Other_text_should_not_read_as_a_duration(string text)
    {
        Assert.Null(ReportTime.ParseDuration(text));
    }

    [Theory]
    [InlineData("2025-01-31T14:00:05Z", "2025-01-31T14:00:05+00:00")]
    [InlineData("2025-01-31T14:00:05+02:00", "2025-01-31T12:00:05+00:00")]
    [InlineData("2025-01-31 14:00:05.5Z", "2025-01-31T14:00:05.5+00:00")]
    [InlineData("now", "2025-06-15T14:30:00+00:00")]
    [InlineData("2h", "2025-06-15T12:30:00+00:00")]
    public void Points_with_an_offset_or_relative_to_now_should_read_exactly(string text, string expected)
    {
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), ReportTime.ParsePoint(text, Now));
    }

    [Theory]
    [InlineData("2025-01-31", "2025-01-31T00:00:00")]
    [InlineData("2025-01-31 14:00", "2025-01-31T14:00:00")]
    [InlineData("2025-01-31T14:00:05", "2025-01-31T14:00:05")]
    public void Points_without_an_offset_should_be_local_time(string text, string local)
    {
        var point = ReportTime.ParsePoint(text, Now);

        Assert.Equal(DateTime.Parse(local), point!.Value.LocalDateTime);
        Assert.Equal(TimeZoneInfo.Local.GetUtcOffset(DateTime.Parse(local)), point.Value.Offset);
    }

    [Fact]
    public void A_clock_time_should_be_today()
    {
        var point = ReportTime.ParsePoint("09:15", Now)!.Value;

        Assert.Equal(Now.ToLocalTime().Date, point.LocalDateTime.Date);
        Assert.Equal(new TimeSpan(9, 15, 0), point.LocalDateTime.TimeOfDay);
    }

    [Fact]
    public void Since_should_reach_back_from_now_and_leave_the_end_open()
    {
        var range = ReportCommand.Range("1h", null, null, Now);

        Assert.Equal((Now.AddHours(-1), (DateTimeOffset?)null, TimeSpan.FromHours(1)), (range.From!.Value, range.To, range.Last!.Value));
    }

    [Fact]
    public async Task Since_1h_should_answer_what_suffered_the_most_run_queue_delay_in_the_last_hour()
    {
        var directory = Directory.CreateTempSubdirectory("taskstats-report-since-").FullName;
        try
        {
            var path = Path.Combine(directory, "taskstats.db");
            var now = DateTimeOffset.UtcNow;
            using (var writer = Collector.Sinks.Sqlite.HistoryWriter.Open(new Collector.Sinks.Sqlite.HistoryOptions { Path = path, MaxAge = TimeSpan.Zero }))
            {
                writer.Write(Exit("recent", 5_000_000, now.AddMinutes(-30)));
                writer.Write(Exit("loud-but-old", 900_000_000, now.AddMinutes(-90)));
                writer.Write(Exit("quiet", 1_000, now.AddMinutes(-5)));
            }

            var result = await ReportCli.RunAsync(["report", "--db", path, "--since", "1h", "--sort", "cpu", "--top", "10", "--csv"]);

            Assert.True(result.ExitCode == ExitCode.Success, result.ToString());
            Assert.Equal(["recent", "quiet"], result.OutLines.Skip(1).Select(line => line.Split(',')[0]));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Collector.Events.ExitBatch Exit(string comm, ulong cpuDelay, DateTimeOffset at)
    {
        var stats = TestSupport.FakeKernel.ExitMessageBuilder.Stats(1000, comm);
        stats.CpuDelayTotal = cpuDelay;
        return new Collector.Events.ExitBatch(ReportHistory.Shard0,
            [new Kernel.Taskstats.TaskstatsMessage(1, new Kernel.Taskstats.TaskstatsRecord(Kernel.Taskstats.TaskstatsScope.Pid, 1000, stats), null)], at);
    }
}
