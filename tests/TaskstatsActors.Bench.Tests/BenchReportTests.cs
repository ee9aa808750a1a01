namespace TaskstatsActors.Bench.Tests;

/// <summary>The harness's pure parts: loss verdicts, medians, the soak's flatness, and how a rerun rewrites the report.</summary>
public sealed class BenchReportTests
{
    private static RunResult Run(long exits, long received, long messages, long reported, long? oracleOthers = null, long? oracleDrops = null) => new()
    {
        Scenario = "s",
        Contender = "c",
        Run = 1,
        Comm = "x",
        Exits = exits,
        Received = received,
        Messages = messages,
        ReportedLost = reported,
        OracleOtherMessages = oracleOthers,
        OracleDrops = oracleDrops,
    };

    [Fact]
    public void Verdict_is_exact_when_reported_equals_measured()
    {
        Assert.Equal(LossVerdict.Exact, Run(100, 90, 95, 10).Verdict);
    }

    [Fact]
    public void Verdict_disagrees_when_fewer_are_reported_than_measured()
    {
        Assert.Equal(LossVerdict.Disagrees, Run(100, 90, 95, 9).Verdict);
    }

    [Fact]
    public void Verdict_is_explained_when_the_excess_is_no_more_than_the_other_messages_the_oracle_saw_and_the_contender_missed()
    {
        // 5 other messages received, the oracle saw 8: up to 3 of them were lost with the storm's.
        Assert.Equal(LossVerdict.Explained, Run(100, 90, 95, 13, oracleOthers: 8, oracleDrops: 0).Verdict);
        Assert.Equal(LossVerdict.Disagrees, Run(100, 90, 95, 14, oracleOthers: 8, oracleDrops: 0).Verdict);
    }

    [Fact]
    public void Verdict_is_unproven_without_an_oracle_or_with_one_that_dropped()
    {
        Assert.Equal(LossVerdict.Unproven, Run(100, 90, 95, 12).Verdict);
        Assert.Equal(LossVerdict.Unproven, Run(100, 90, 95, 12, oracleOthers: 8, oracleDrops: 1).Verdict);
    }

    [Fact]
    public void A_disagreement_names_collects_own_uncertain_and_duplicate_figures_when_it_printed_them()
    {
        var collect = Run(100, 90, 95, 14, oracleOthers: 8, oracleDrops: 0) with { Uncertain = 3, Duplicates = 2 };
        var reference = Run(100, 90, 95, 14, oracleOthers: 8, oracleDrops: 0);

        Assert.Equal("; its own figures: 3 uncertain (handover drops that may have reached the new socket too), 2 duplicates caught", Report.OwnFigures(collect));
        Assert.Equal("", Report.OwnFigures(reference));
    }

    [Fact]
    public void The_shard_table_of_collects_summary_is_summed_per_column()
    {
        const string output = """
            collected for 10.3 s: 137788 records, 62252 lost, 7527 overflow incidents, 10 restarts
            shard  cpus        records     lost  overflows  restarts  duplicates  seq-gaps  malformed  uncertain  buffer
                0  0             71651    30841       3893         5           4     30805          0          9  16384
                1  1             69434    28081       3658         5           2     28081          0         14  16384
            """;
        var rows = Runner.ShardSummaryRow().Matches(output);

        Assert.Equal(2, rows.Count);
        Assert.Equal(23, Runner.SumOf(rows, "uncertain"));
        Assert.Equal(6, Runner.SumOf(rows, "duplicates"));
        Assert.Null(Runner.SumOf(Runner.ShardSummaryRow().Matches("no table"), "uncertain"));
    }

    [Fact]
    public void Median_of_an_even_count_is_the_mean_of_the_middle_two()
    {
        Assert.Equal(2.5, Stats.Median([4, 1, 2, 3]));
        Assert.Equal(3, Stats.Median([5, 3, 1, null]));
        Assert.Null(Stats.Median([]));
    }

    [Fact]
    public void Soak_is_flat_when_rss_stays_level_after_the_warm_up_and_not_when_it_climbs()
    {
        var level = Soak(t => t < 60 ? 50_000 + t * 100 : 80_000 + (t % 20 == 0 ? 500 : 0));
        Assert.True(Report.Flatness(level).Flat, Report.Flatness(level).Text);
        var climbing = Soak(t => 80_000 + t * 50); // ~3 MB a minute
        Assert.False(Report.Flatness(climbing).Flat, Report.Flatness(climbing).Text);
    }

    private static SoakResult Soak(Func<int, long> rssKiB) => new()
    {
        Minutes = 10,
        Rate = 5000,
        Samples = Enumerable.Range(0, 61).Select(i => new SoakSample(i * 10, rssKiB(i * 10), rssKiB(i * 10), i)).ToList(),
        Run = Run(1, 1, 1, 0),
        Date = "today",
        Commands = [],
    };

    [Fact]
    public void A_rerun_replaces_only_its_own_blocks_and_keeps_what_others_wrote()
    {
        var first = Report.Merge(null, [("header", "H1"), ("storms", "S1"), ("targets", "T1")]);
        var edited = first + "\n## Pipeline capacity\n\nwritten by someone else\n";
        var second = Report.Merge(edited, [("header", "H2"), ("soak", "K2"), ("targets", "T2")]);

        Assert.Contains("H2", second);
        Assert.DoesNotContain("H1", second);
        Assert.Contains("S1", second); // storms not rerun: kept
        Assert.Contains("K2", second);
        Assert.Contains("T2", second);
        Assert.Contains("written by someone else", second);
        Assert.True(second.IndexOf("K2", StringComparison.Ordinal) < second.IndexOf("T2", StringComparison.Ordinal), "a new block goes before the targets");
    }

    [Fact]
    public void A_block_without_text_is_removed_and_the_rest_kept()
    {
        var first = Report.Merge(null, [("header", "H1"), ("storms", "S1"), ("before-after", "B1"), ("targets", "T1")]);
        var edited = first + "\n## Notes\n\nwritten by someone else\n";

        var second = Report.Merge(edited, [("storms", "S2"), ("before-after", null), ("targets", "T2")]);

        Assert.DoesNotContain("B1", second);
        Assert.DoesNotContain("bench:begin before-after", second);
        Assert.DoesNotContain("bench:end before-after", second);
        Assert.Contains("H1", second);
        Assert.Contains("S2", second);
        Assert.Contains("T2", second);
        Assert.Contains("written by someone else", second);
        Assert.DoesNotContain("\n\n\n", second);
    }

    [Fact]
    public async Task The_report_command_rewrites_the_report_from_the_raw_figures_and_judges_cpu_in_every_storm()
    {
        // collect is cheaper than the one-recv listener at the maximum rate, but not in the paced storm.
        var collect = Contender.Collect("collect-default", "collect, default config");
        var recv = Contender.C("recv", 0);
        var batch = Contender.C("batch", 0);
        Scenario Storm(string id, double rate) => new(id, id, 10, rate, [collect, recv, batch], "test");
        RunResult Cpu(string scenario, Contender contender, double secondsPer100K) =>
            LosslessRun(scenario, contender, 1, 100_000, cpuAtStormStart: 1, cpuAtStop: null, cpuSeconds: 1 + secondsPer100K);
        var storms = new StormsData("today", "TaskstatsActors.Bench storms --runs 1", "vfork", 2, 1, 0, new Dictionary<string, string>(),
            [Storm(Report.MaxScenario, 0), Storm("paced-5000", 5000)],
            [
                Cpu(Report.MaxScenario, collect, 0.4), Cpu(Report.MaxScenario, recv, 0.5), Cpu(Report.MaxScenario, batch, 0.3),
                Cpu("paced-5000", collect, 1.0), Cpu("paced-5000", recv, 0.5), Cpu("paced-5000", batch, 0.3),
            ],
            16);
        var machine = new MachineInfo(2, "0-1", "cpu", "1 GiB", "6.18", "0", ".NET", "cc", "Release", "abc1234", "0.00");
        var directory = Directory.CreateTempSubdirectory("bench-report-test.");
        try
        {
            var report = Path.Combine(directory.FullName, "BENCHMARKS.md");
            await File.WriteAllTextAsync(Path.ChangeExtension(report, ".json"),
                System.Text.Json.JsonSerializer.Serialize(new BenchData(machine, storms, null), BenchData.JsonOptions));
            var output = new StringWriter();
            var error = new StringWriter();

            Assert.Equal(0, await Bench.RunAsync(["report", "--out", report], output, error));

            var text = await File.ReadAllTextAsync(report);
            var recvTarget = text.Split('\n').Single(l => l.StartsWith("| CPU per record no more than the one-`recv`", StringComparison.Ordinal));
            Assert.Contains("| **no** |", recvTarget);
            Assert.Contains("maximum rate 0.400 vs 0.500 (0.80×)", recvTarget);
            Assert.Contains("5,000/s 1.000 vs 0.500 (2.00×)", recvTarget);
            Assert.Contains("`TaskstatsActors.Bench storms --runs 1`", text); // the run's own invocation, not "report"
            Assert.Contains("abc1234", text);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Collects_cpu_is_split_into_start_up_storm_and_shutdown_under_its_storm()
    {
        var collect = Contender.Collect("collect-default", "collect, default config");
        var scenario = new Scenario(Report.MaxScenario, "Maximum", 10, 0, [collect], "test");
        RunResult Run(int run, double shutdown) =>
            LosslessRun(scenario.Id, collect, run, 200_000, cpuAtStormStart: 1.2, cpuAtStop: 1.2 + 0.9, cpuSeconds: 1.2 + 0.9 + shutdown);
        var runs = new[] { Run(1, 0.1), Run(2, 0.2), Run(3, 0.3) };

        var text = new System.Text.StringBuilder();
        Report.AppendScenario(text, scenario, ContenderFigures.Of(scenario, runs));

        // Storm and drain: 0.9 s for 200k records; storm only with the median shutdown: 1.1 s.
        Assert.Contains("| collect, default config | 1.20 | 0.90 | 0.20 | 0.450 | 0.550 |", text.ToString());
    }

    [Fact]
    public void Runs_recorded_before_the_stop_time_cpu_was_read_leave_the_split_out()
    {
        var collect = Contender.Collect("collect-default", "collect, default config");
        var scenario = new Scenario(Report.MaxScenario, "Maximum", 10, 0, [collect], "test");
        var run = LosslessRun(scenario.Id, collect, 1, 10, cpuAtStormStart: 1, cpuAtStop: null, cpuSeconds: 2);

        var text = new System.Text.StringBuilder();
        Report.AppendScenario(text, scenario, ContenderFigures.Of(scenario, [run]));

        Assert.DoesNotContain("Where `collect`'s CPU went", text.ToString());
    }

    [Fact]
    public async Task The_report_command_without_raw_figures_says_so()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"bench-report-missing-{Guid.NewGuid():N}", "BENCHMARKS.md");
        var error = new StringWriter();

        Assert.Equal(1, await Bench.RunAsync(["report", "--out", missing], new StringWriter(), error));
        Assert.Contains("no readable raw figures at", error.ToString());
        Assert.False(File.Exists(missing));
    }

    /// <summary>A run in which every exit arrived and none was reported lost, with the CPU readings given.</summary>
    private static RunResult LosslessRun(string scenario, Contender contender, int run, long exits, double cpuAtStormStart, double? cpuAtStop, double cpuSeconds) => new()
    {
        Scenario = scenario,
        Contender = contender.Id,
        Run = run,
        Comm = "x",
        Exits = exits,
        Received = exits,
        Messages = exits,
        ReportedLost = 0,
        CpuAtStormStart = cpuAtStormStart,
        CpuAtStop = cpuAtStop,
        CpuSeconds = cpuSeconds,
    };
}
