using System.Diagnostics;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Kernel.Taskstats;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Sqlite;

/// <summary>
/// How many records per second the history takes with the default options: printed, and checked against a floor
/// far below what it does (a Debug build on a busy 2-CPU VM writes some 30,000/s, a Release build 75,000-95,000/s,
/// about 10 µs of CPU per record) so that only a gross regression fails. The collector-level figure is measured
/// with the real kernel (docs/history-schema.md).
/// </summary>
public sealed class HistoryThroughputSpecs(ITestOutputHelper output) : IDisposable
{
    private readonly HistoryFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData(256)]
    [InlineData(16)]
    public void HistoryWriter_should_write_tens_of_thousands_of_records_a_second(int perBatch)
    {
        var total = 100_000 / perBatch * perBatch;
        // Realistic variety: 50 commands, 8 uids, records of up to 8 threads per tgid, on two shards.
        var batches = new List<ExitBatch>();
        var pid = 10_000u;
        for (var b = 0; b < total / perBatch; b++)
        {
            var messages = new List<TaskstatsMessage>(perBatch);
            for (var i = 0; i < perBatch; i++, pid++)
                messages.Add(new TaskstatsMessage((uint)(b * perBatch + i), HistoryFiles.Task(pid, $"cmd{pid % 50}", 1000 + pid % 8, pid - pid % 8, s =>
                {
                    s.CpuDelayTotal = pid * 37 % 1_000_000;
                    s.BlkioDelayTotal = pid % 1000;
                }), null));
            batches.Add(new ExitBatch(b % 2 == 0 ? HistoryFiles.Shard0 : HistoryFiles.Shard1, messages, HistoryFiles.T0.AddMilliseconds(b)));
        }
        var options = new HistoryOptions { Path = _files.PathOf("rate.db"), MaxAge = TimeSpan.Zero };

        var clock = Stopwatch.StartNew();
        using (var writer = HistoryWriter.Open(options))
        {
            foreach (var batch in batches)
                writer.Write(batch);
        }
        clock.Stop();

        var rate = total / clock.Elapsed.TotalSeconds;
        var bytes = new FileInfo(options.Path).Length;
        output.WriteLine($"{total} records in batches of {perBatch}: {clock.Elapsed.TotalSeconds:0.00} s, {rate:N0} records/s, {bytes / (double)total:0} bytes/record on disk");
        Assert.Equal(total, HistoryFiles.Count(options.Path, HistorySchema.Exits));
        Assert.True(rate > 5_000, $"{rate:N0} records/s");
    }
}
