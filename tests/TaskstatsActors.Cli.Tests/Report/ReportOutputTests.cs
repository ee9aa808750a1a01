namespace TaskstatsActors.Cli.Tests.Report;

/// <summary>The three forms of a report: the table with its bars, CSV, and the loss table.</summary>
public sealed class ReportOutputTests : IDisposable
{
    private readonly ReportHistory _history = new();

    public void Dispose() => _history.Dispose();

    private Task<CliResult> Report(params string[] args) =>
        ReportCli.RunAsync(["report", "--db", _history.Path, "--from", ReportHistory.From, "--to", ReportHistory.To, .. args]);

    [Fact]
    public async Task The_table_should_say_what_was_asked_and_draw_a_bar_per_row_against_the_first()
    {
        var result = await Report("--sort", "cpu", "--top", "3");

        Assert.True(result.ExitCode == ExitCode.Success, result.ToString());
        var lines = result.OutLines;
        Assert.StartsWith("Top 3 commands by run-queue (cpu) delay, ", lines[0]);
        Assert.Contains("(1h30m)", lines[0]);
        Assert.Equal("9 exits, 4 commands, cpu total 109 ms", lines[1]);
        var rows = lines.Where(line => line.Contains("cc1") || line.Contains(" make ") || line.Contains("bgworker")).ToArray();
        Assert.Equal(3, rows.Length);
        Assert.Contains("100 ms", rows[0]);
        Assert.Contains("30.0 ms", rows[0]); // the longest single delay
        Assert.Contains("5.00 ms", rows[0]); // the average: 100 ms over 20 delays
        Assert.Contains("91.7%", rows[0]);   // 100 of 109 ms
        // The bars: against cc1's; make's 4 % of it is 0.96 cell (8 eighths), bgworker's 3 % 0.72 cell (6 eighths).
        string Bar(string row) => row.Split('│')[7].Trim();
        Assert.Equal([new string('█', 24), "█", "▊"], rows.Select(Bar));
        Assert.Contains("(1 command not shown; --top N shows more)", lines[^1]);
        Assert.DoesNotContain("\u001b[", result.Out); // no colours into a file or a pipe
    }

    [Fact]
    public async Task The_table_should_hint_at_delay_accounting_when_every_delay_of_the_kind_is_0()
    {
        var result = await Report("--sort", "thrashing");

        Assert.Contains("every thrashing delay in this range is 0", result.Out);
        Assert.Contains("kernel.task_delayacct", result.Out);
    }

    [Fact]
    public async Task An_empty_range_should_say_so()
    {
        var result = await ReportCli.RunAsync(["report", "--db", _history.Path, "--from", "2024-01-01", "--to", "2024-01-02"]);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.Equal("no exit records in this range", result.OutLines[^1]);
    }

    [Fact]
    public async Task Csv_should_have_a_header_and_one_line_per_group_with_every_figure()
    {
        var result = await Report("--csv", "--by", "tgid", "--top", "2");

        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.Equal(
        [
            "tgid,comm,exits,cpu_time_us,read_bytes,write_bytes,cpu_count,cpu_total_ns,cpu_max_ns,blkio_count,blkio_total_ns,blkio_max_ns," +
            "swapin_count,swapin_total_ns,swapin_max_ns,reclaim_count,reclaim_total_ns,reclaim_max_ns,thrashing_count,thrashing_total_ns,thrashing_max_ns," +
            "compact_count,compact_total_ns,compact_max_ns,wpcopy_count,wpcopy_total_ns,wpcopy_max_ns,irq_count,irq_total_ns,irq_max_ns",
            "200,cc1,1,250000,1048576,65536,10,50000000,30000000,1,5000000,5000000,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
            "201,cc1,1,250000,1048576,65536,10,50000000,30000000,1,5000000,5000000,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
        ], result.OutLines);
    }

    [Fact]
    public async Task Csv_of_shards_should_carry_the_losses()
    {
        var result = await Report("--csv", "--by", "shard", "--sort", "io");

        Assert.StartsWith("shard,exits,lost,cpu_time_us,", result.OutLines[0]);
        Assert.StartsWith("0,5,5,", result.OutLines[1]);
        Assert.StartsWith("1,4,123,", result.OutLines[2]);
    }

    [Fact]
    public async Task Losses_should_be_a_table_of_when_which_shard_and_how_many_with_a_total()
    {
        var result = await Report("--losses");

        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.StartsWith("Lost exit records, ", result.OutLines[0]);
        var rows = result.OutLines.Where(line => line.Contains("socket-drop-counter") || line.Contains("sequence-gap")).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.Contains(ReportHistory.T0.AddMinutes(1).AddSeconds(1).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss"), rows[0]);
        Assert.Matches(@"│\s+1\s+│\s+1\s+│\s+123\s+│\s+socket-drop-counter", rows[0]);
        Assert.Matches(@"│\s+0\s+│\s+0\s+│\s+5\s+│\s+sequence-gap", rows[1]);
        Assert.Equal("128 lost in 2 incidents, 9 exits recorded (93.4% lost)", result.OutLines[^1]);
    }

    [Fact]
    public async Task Losses_as_csv_should_be_one_line_per_loss()
    {
        var result = await Report("--losses", "--csv");

        Assert.Equal(
        [
            "time,shard,cpus,count,source",
            "2025-01-01T12:01:01.000000Z,1,1,123,socket-drop-counter",
            "2025-01-01T12:03:00.000000Z,0,0,5,sequence-gap",
        ], result.OutLines);
    }
}
