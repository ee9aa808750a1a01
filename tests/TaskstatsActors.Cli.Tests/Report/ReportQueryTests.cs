using System.Text.Json;

namespace TaskstatsActors.Cli.Tests.Report;

/// <summary><c>report</c> over <see cref="ReportHistory"/>: the exact rows of each grouping and ranking, as JSON.</summary>
public sealed class ReportQueryTests : IDisposable
{
    private readonly ReportHistory _history = new();

    public void Dispose() => _history.Dispose();

    private async Task<JsonElement> Json(params string[] args)
    {
        var result = await ReportCli.RunAsync(["report", "--db", _history.Path, "--from", ReportHistory.From, "--to", ReportHistory.To, "--json", .. args]);
        Assert.True(result.ExitCode == ExitCode.Success, result.ToString());
        Assert.Equal("", result.Error);
        return JsonDocument.Parse(result.Out).RootElement.Clone();
    }

    private static string[] Keys(JsonElement report, string key) =>
        report.GetProperty("rows").EnumerateArray().Select(row => row.GetProperty(key).ToString()).ToArray();

    [Fact]
    public async Task By_comm_sort_cpu_should_rank_by_run_queue_delay_with_every_figure_of_each_command()
    {
        var report = await Json("--by", "comm", "--sort", "cpu");

        Assert.Equal(["cc1", "make", "bgworker", "postgres"], Keys(report, "comm"));
        Assert.Equal("comm", report.GetProperty("by").GetString());
        Assert.Equal("cpu", report.GetProperty("sort").GetString());
        Assert.Equal(9, report.GetProperty("exits").GetInt64()); // task records only, in range only
        Assert.Equal(4, report.GetProperty("groups").GetInt64());
        Assert.Equal(new DateTimeOffset(2025, 1, 1, 11, 30, 0, TimeSpan.Zero), report.GetProperty("from").GetDateTimeOffset());
        Assert.Equal(ReportHistory.T0, report.GetProperty("first").GetDateTimeOffset());
        Assert.Equal(ReportHistory.T0.AddMinutes(2).AddSeconds(1), report.GetProperty("last").GetDateTimeOffset());

        var cc1 = report.GetProperty("rows")[0];
        Assert.Equal(2, cc1.GetProperty("exits").GetInt64());
        Assert.Equal(500_000, cc1.GetProperty("cpu_time_us").GetInt64());
        Assert.Equal(2 << 20, cc1.GetProperty("read_bytes").GetInt64());
        Assert.Equal(128 << 10, cc1.GetProperty("write_bytes").GetInt64());
        var delays = cc1.GetProperty("delays");
        Assert.Equal(["cpu", "blkio", "swapin", "reclaim", "thrashing", "compact", "wpcopy", "irq"], delays.EnumerateObject().Select(p => p.Name));
        Assert.Equal((20, 100_000_000, 30_000_000), Delay(delays, "cpu"));
        Assert.Equal((2, 10_000_000, 5_000_000), Delay(delays, "blkio"));
        Assert.Equal((0, 0, 0), Delay(delays, "irq"));
        var make = report.GetProperty("rows")[1];
        Assert.Equal((4, 6_000), (make.GetProperty("exits").GetInt64(), make.GetProperty("cpu_time_us").GetInt64()));
        Assert.Equal((8, 4_000_000, 600_000), Delay(make.GetProperty("delays"), "cpu"));
        var postgres = report.GetProperty("rows")[3];
        Assert.Equal((1, 1_000_000, 1_000_000), Delay(postgres.GetProperty("delays"), "swapin"));
    }

    [Theory]
    [InlineData("cpu", new[] { "cc1", "make", "bgworker", "postgres" })]
    [InlineData("blkio", new[] { "bgworker", "postgres", "cc1", "make" })]
    // Ties (all 0) are broken by exits, then by name.
    [InlineData("swapin", new[] { "postgres", "make", "bgworker", "cc1" })]
    [InlineData("reclaim", new[] { "make", "bgworker", "cc1", "postgres" })]
    [InlineData("thrashing", new[] { "make", "bgworker", "cc1", "postgres" })]
    [InlineData("compact", new[] { "make", "bgworker", "cc1", "postgres" })]
    [InlineData("wpcopy", new[] { "make", "bgworker", "cc1", "postgres" })]
    [InlineData("irq", new[] { "make", "bgworker", "cc1", "postgres" })]
    [InlineData("cputime", new[] { "cc1", "bgworker", "postgres", "make" })]
    [InlineData("io", new[] { "postgres", "cc1", "bgworker", "make" })]
    public async Task Each_sort_should_rank_the_commands_by_its_total(string sort, string[] expected)
    {
        var report = await Json("--sort", sort);

        Assert.Equal(expected, Keys(report, "comm"));
    }

    [Fact]
    public async Task By_tgid_should_sum_a_processes_threads_and_name_it_by_its_main_thread()
    {
        var report = await Json("--by", "tgid", "--sort", "cpu");

        Assert.Equal(["200", "201", "300", "100"], Keys(report, "tgid"));
        Assert.Equal(["cc1", "cc1", "postgres", "make"], Keys(report, "comm"));
        var postgres = report.GetProperty("rows")[2];
        Assert.Equal(JsonValueKind.Number, postgres.GetProperty("tgid").ValueKind);
        Assert.Equal(3, postgres.GetProperty("exits").GetInt64());
        Assert.Equal((10, 5_000_000, 1_000_000), Delay(postgres.GetProperty("delays"), "cpu"));
        Assert.Equal((20, 200_000_000, 40_000_000), Delay(postgres.GetProperty("delays"), "blkio"));
        Assert.Equal(12 << 20, postgres.GetProperty("write_bytes").GetInt64());
    }

    [Fact]
    public async Task By_uid_sort_cputime_should_sum_each_users_cpu_time()
    {
        var report = await Json("--by", "uid", "--sort", "cputime");

        Assert.Equal(["1000", "70"], Keys(report, "uid"));
        Assert.Equal([506_000L, 20_000L], report.GetProperty("rows").EnumerateArray().Select(row => row.GetProperty("cpu_time_us").GetInt64()));
        Assert.Equal([6L, 3L], report.GetProperty("rows").EnumerateArray().Select(row => row.GetProperty("exits").GetInt64()));
    }

    [Fact]
    public async Task By_shard_sort_io_should_show_each_shards_exits_bytes_and_losses_in_range()
    {
        var report = await Json("--by", "shard", "--sort", "io");

        Assert.Equal(["0", "1"], Keys(report, "shard"));
        var rows = report.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal((5, 5, 16_384 + (10 << 20)), (rows[0].GetProperty("exits").GetInt64(), rows[0].GetProperty("lost").GetInt64(),
            rows[0].GetProperty("read_bytes").GetInt64() + rows[0].GetProperty("write_bytes").GetInt64()));
        // 7 more were lost on shard 1, but before the range.
        Assert.Equal((4, 123, (2 << 20) + (128 << 10) + (2 << 20)), (rows[1].GetProperty("exits").GetInt64(), rows[1].GetProperty("lost").GetInt64(),
            rows[1].GetProperty("read_bytes").GetInt64() + rows[1].GetProperty("write_bytes").GetInt64()));
    }

    [Fact]
    public async Task Top_should_limit_the_rows_but_not_the_totals()
    {
        var report = await Json("--top", "2");

        Assert.Equal(["cc1", "make"], Keys(report, "comm"));
        Assert.Equal((9, 4, 2), (report.GetProperty("exits").GetInt64(), report.GetProperty("groups").GetInt64(), report.GetProperty("top").GetInt32()));
    }

    [Fact]
    public async Task Without_a_range_the_whole_history_should_count()
    {
        var result = await ReportCli.RunAsync(["report", "--db", _history.Path, "--json", "--top", "1"]);

        var report = JsonDocument.Parse(result.Out).RootElement;
        Assert.Equal("old", report.GetProperty("rows")[0].GetProperty("comm").GetString());
        Assert.Equal(10, report.GetProperty("exits").GetInt64());
        Assert.Equal(JsonValueKind.Null, report.GetProperty("from").ValueKind);
    }

    [Fact]
    public async Task Losses_should_list_each_loss_in_range_oldest_first()
    {
        var report = await Json("--losses");

        Assert.Equal(128, report.GetProperty("lost").GetInt64());
        Assert.Equal(9, report.GetProperty("exits").GetInt64());
        var losses = report.GetProperty("losses").EnumerateArray().ToArray();
        Assert.Equal(2, losses.Length);
        Assert.Equal(ReportHistory.T0.AddMinutes(1).AddSeconds(1), losses[0].GetProperty("time").GetDateTimeOffset());
        Assert.Equal((1, "1", 123, "socket-drop-counter"), (losses[0].GetProperty("shard").GetInt32(), losses[0].GetProperty("cpus").GetString(),
            losses[0].GetProperty("count").GetInt64(), losses[0].GetProperty("source").GetString()));
        Assert.Equal((0, 5, "sequence-gap"), (losses[1].GetProperty("shard").GetInt32(), losses[1].GetProperty("count").GetInt64(), losses[1].GetProperty("source").GetString()));
    }

    [Theory]
    [InlineData("comm")]
    [InlineData("uid")]
    [InlineData("tgid")]
    [InlineData("shard")]
    public void Each_grouping_should_read_only_the_ids_that_the_exit_spans_give_for_the_range(string by)
    {
        using var connection = Collector.Sinks.Sqlite.HistoryDatabase.OpenForReading(_history.Path);

        var plan = Cli.Report.ReportQuery.Plan(connection, Cli.Report.ReportGrouping.Parse(by), Cli.Report.ReportRange.Everything);

        Assert.Contains(plan, step => step.Contains("USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)", StringComparison.Ordinal));
    }

    private static (long Count, long Total, long Max) Delay(JsonElement delays, string name)
    {
        var delay = delays.GetProperty(name);
        return (delay.GetProperty("count").GetInt64(), delay.GetProperty("total_ns").GetInt64(), delay.GetProperty("max_ns").GetInt64());
    }
}
