using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Tests.Sqlite;

/// <summary>retention.max-age and retention.max-size: what goes, what stays, and that the file shrinks.</summary>
public sealed class HistoryRetentionSpecs : IDisposable
{
    private readonly HistoryFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>The system's timers, but a clock that says what the spec wants.</summary>
    private sealed class SetClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static WindowSummaryData Window(DateTimeOffset start) =>
        new(start, start.AddSeconds(10), 1, 0,
            [new GroupFigures("make", 1, 10, new Dictionary<DelayCategory, DelayFigures>(), 0, 0)], [], [],
            new Dictionary<DelayCategory, IReadOnlyList<GroupFigures>>());

    [Fact]
    public void Rows_older_than_max_age_should_go_and_younger_ones_stay()
    {
        var now = HistoryFiles.T0;
        var options = _files.Options();
        using (var writer = HistoryWriter.Open(options))
        {
            foreach (var days in new[] { 40, 31, 29, 1 })
            {
                var at = now.AddDays(-days);
                writer.Write(HistoryFiles.Batch(10, firstPid: (uint)days * 100, at: at));
                writer.Write(Window(at));
                writer.Write(new RecordsLost(HistoryFiles.Shard0, at, days, LossSource.SocketDropCounter));
                writer.Write(new ListenerRestarted(HistoryFiles.Shard0, at, 1 << 20, "overflow"));
            }
        }

        RetentionResult result;
        using (var writer = HistoryWriter.Open(options with { MaxAge = TimeSpan.FromDays(30) }, new SetClock(now)))
            result = writer.EnforceRetention();

        Assert.Equal(0, result.ExitsDeleted); // Open enforced it already
        Assert.Equal(20, HistoryFiles.Count(options.Path, HistorySchema.Exits));
        Assert.Equal(0, HistoryFiles.Count(options.Path, HistorySchema.Exits, $"time_us < {HistorySchema.ToUnixMicroseconds(now.AddDays(-30))}"));
        Assert.Equal(2, HistoryFiles.Count(options.Path, HistorySchema.Windows));
        Assert.Equal(2, HistoryFiles.Count(options.Path, HistorySchema.WindowGroups));
        Assert.Equal(2, HistoryFiles.Count(options.Path, HistorySchema.Losses));
        Assert.Equal(2, HistoryFiles.Count(options.Path, HistorySchema.Losses, "count IN (29, 1)"));
        Assert.Equal(2, HistoryFiles.Count(options.Path, HistorySchema.Restarts));
    }

    [Fact]
    public void Max_age_should_be_enforced_again_every_check_interval_while_writing()
    {
        var clock = new SetClock(HistoryFiles.T0);
        var options = _files.Options() with
        {
            MaxAge = TimeSpan.FromHours(1),
            RetentionInterval = TimeSpan.FromMilliseconds(100),
            FlushInterval = TimeSpan.FromMilliseconds(50),
        };
        using var writer = HistoryWriter.Open(options, clock);
        writer.Write(HistoryFiles.Batch(10, at: HistoryFiles.T0));
        writer.Write(HistoryFiles.Batch(10, firstPid: 5000, at: HistoryFiles.T0.AddMinutes(30)));
        writer.Flush();
        Assert.Equal(20, HistoryFiles.Count(options.Path, HistorySchema.Exits));

        clock.Now = HistoryFiles.T0.AddMinutes(61);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (HistoryFiles.Count(options.Path, HistorySchema.Exits) != 10 && DateTime.UtcNow < deadline)
            Thread.Sleep(50);

        Assert.Equal(10, HistoryFiles.Count(options.Path, HistorySchema.Exits, "ac_pid >= 5000"));
        Assert.Equal(10, HistoryFiles.Count(options.Path, HistorySchema.Exits));
    }

    [Fact]
    public void Over_max_size_the_oldest_exits_should_go_and_the_file_shrink_below_the_limit()
    {
        var options = _files.Options();
        const int batches = 200, perBatch = 250; // 50,000 records, some 6 MiB
        using (var writer = HistoryWriter.Open(options))
        {
            for (var b = 0; b < batches; b++)
            {
                var at = HistoryFiles.T0.AddSeconds(b);
                writer.Write(HistoryFiles.Batch(perBatch, firstPid: (uint)(b * perBatch), at: at, comm: $"cmd{b % 7}"));
                writer.Write(Window(at));
            }
        }
        var before = new FileInfo(options.Path).Length;
        const long limit = 2L << 20;
        Assert.True(before > 2 * limit, $"the history should start well above the limit, it is {before} bytes");

        RetentionResult result;
        using (var writer = HistoryWriter.Open(options with { MaxSize = limit }))
            result = writer.EnforceRetention();

        var after = new FileInfo(options.Path).Length;
        Assert.True(after <= limit, $"{after} bytes after trimming to {limit}");
        Assert.True(after >= limit / 2, $"{after} bytes: trimmed far more than needed for {limit}");
        Assert.False(File.Exists(options.Path + "-wal") && new FileInfo(options.Path + "-wal").Length > 0, "the log should be folded in and truncated");
        var kept = HistoryFiles.Count(options.Path, HistorySchema.Exits);
        Assert.InRange(kept, 1, batches * perBatch - 1);
        // What is kept is the newest: the last record is there, the ids left are one contiguous run at the end.
        Assert.Equal(1, HistoryFiles.Count(options.Path, HistorySchema.Exits, $"ac_pid = {batches * perBatch - 1}"));
        using var connection = HistoryFiles.Read(options.Path);
        Assert.Equal(batches * perBatch, HistoryFiles.Scalar(connection, "SELECT max(id) FROM exits"));
        Assert.Equal(kept, HistoryFiles.Scalar(connection, "SELECT max(id) - min(id) + 1 FROM exits"));
        // Windows older than every exit kept went with them.
        Assert.Equal(0, HistoryFiles.Scalar(connection, "SELECT count(*) FROM windows WHERE end_us < (SELECT min(time_us) FROM exits)"));
        Assert.Equal(0, result.ExitsDeleted); // Open trimmed already: a second pass has nothing to do
    }

    [Fact]
    public void Under_max_size_nothing_should_be_deleted()
    {
        var options = _files.Options();
        using (var writer = HistoryWriter.Open(options))
            writer.Write(HistoryFiles.Batch(1000));

        using var again = HistoryWriter.Open(options with { MaxSize = 64L << 20, MaxAge = TimeSpan.FromDays(3650) }, new SetClock(HistoryFiles.T0));
        var result = again.EnforceRetention();

        Assert.True(result.Idle);
        Assert.Equal(1000, HistoryFiles.Count(options.Path, HistorySchema.Exits));
    }
}
