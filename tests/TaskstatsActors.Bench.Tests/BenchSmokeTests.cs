using System.Text.Json;
using TaskstatsActors.TestSupport;
using Xunit.Abstractions;

namespace TaskstatsActors.Bench.Tests;

/// <summary>
/// Runs the benchmark harness in <c>--smoke</c> mode (tiny storms, one run each, a temporary report):
/// the harness, the C reference listener and the collector's counting sink must still work together.
/// </summary>
public sealed class BenchSmokeTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Smoke_run_reports_every_contender_and_each_reported_loss_matches_the_measured_one()
    {
        RealKernel.SkipUnlessAvailable();
        var report = Path.Combine(Path.GetTempPath(), $"taskstats-bench-smoke-test-{Guid.NewGuid():N}.md");
        var raw = Path.ChangeExtension(report, ".json");
        var log = new StringWriter();
        var errors = new StringWriter();
        try
        {
            var code = await Bench.RunAsync(["--smoke", "--out", report], log, errors);
            output.WriteLine(log.ToString());
            output.WriteLine(errors.ToString());
            Assert.Equal(0, code);

            var markdown = await File.ReadAllTextAsync(report);
            var scenarios = Bench.Scenarios(BenchOptions.Parse(["--smoke"]));
            foreach (var contender in scenarios.SelectMany(s => s.Contenders))
                Assert.Contains($"| {contender.Label} |", markdown);
            Assert.Contains("## Targets (issue 4)", markdown);

            var data = JsonSerializer.Deserialize<BenchData>(await File.ReadAllTextAsync(raw), BenchData.JsonOptions);
            Assert.NotNull(data?.Storms);
            var runs = data.Storms.Runs;
            Assert.All(runs, run => Assert.True(run.Problem is null, $"{run.Scenario}/{run.Contender}: {run.Problem}"));
            Assert.Equal(scenarios.Sum(s => s.Contenders.Count), runs.Count);
            Assert.All(runs, run => Assert.True(run.Exits > 0, $"{run.Scenario}/{run.Contender}: the storm made no exits"));

            foreach (var run in runs.Where(r => r.Contender != Contender.Baseline.Id))
            {
                // Never fewer reported than measured; more only by other tasks' messages, which an oracle
                // bounds where there is one (elsewhere, other tests' storms may run beside this one).
                Assert.True(run.Verdict is LossVerdict.Exact or LossVerdict.Explained or LossVerdict.Unproven,
                    $"{run.Scenario}/{run.Contender}: reported {run.ReportedLost} lost, measured {run.MeasuredLost} ({run.Verdict})");
                if (run.MeasuredLost == 0)
                    Assert.True(run.ReportedLost >= 0);
                Assert.True(run.CpuSeconds >= 0 && run.CpuCheck >= 0, $"{run.Scenario}/{run.Contender}: no CPU time measured");
                if (run.Contender.StartsWith("collect", StringComparison.Ordinal))
                    Assert.True(run.CpuSeconds > 0 && run.CpuAtStormStart > 0 && run.CpuAtStop >= run.CpuAtStormStart && run.CpuSeconds >= run.CpuAtStop,
                        $"{run.Scenario}/{run.Contender}: CPU at start {run.CpuAtStormStart}, at stop {run.CpuAtStop}, at exit {run.CpuSeconds}");
                Assert.True(run.PeakRssKiB > 0, $"{run.Scenario}/{run.Contender}: no peak RSS measured");
            }

            // The storm made to lose did lose, and with the oracle beside it the accounts must agree.
            var lossy = runs.Where(r => r.Scenario == "lossy").ToList();
            Assert.NotEmpty(lossy);
            Assert.Contains(lossy, r => r.MeasuredLost > 0);
            Assert.All(lossy, r =>
            {
                Assert.Equal(0, r.OracleDrops);
                Assert.Equal(r.Exits, r.OracleReceived);
                Assert.True(r.LossAgrees, $"{r.Contender}: reported {r.ReportedLost}, measured {r.MeasuredLost}, oracle saw {r.OracleOtherMessages} other messages, the contender {r.OtherMessages}");
            });
        }
        finally
        {
            File.Delete(report);
            File.Delete(raw);
        }
    }
}
