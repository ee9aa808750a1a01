using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Cli.Tests.Report;

/// <summary>
/// <c>report</c> over a history whose commits were written out of time order, so that its exit spans overlap in
/// time: the ranges it narrows to the spans' ids must count exactly the exits that counting by time finds, in a
/// version 2 history (spans) as in a version 1 one (the time index).
/// </summary>
public sealed class ReportSpanTests : IDisposable
{
    private static readonly ShardInfo Shard0 = new(0, CpuMask.Single(0));
    private static readonly string[] Commands = ["make", "cc1", "ld", "sh"];

    private readonly string _directory = Directory.CreateTempSubdirectory("taskstats-report-spans-").FullName;

    // Whole seconds, so that range bounds written to the second fall exactly on batches.
    private readonly DateTimeOffset _origin = new(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);

    // What was written: when, which command, how many task records (process records come on top).
    private readonly List<(DateTimeOffset At, string Comm, int Tasks)> _written = [];

    public ReportSpanTests()
    {
        Path = System.IO.Path.Combine(_directory, "taskstats.db");
        using var writer = HistoryWriter.Open(new HistoryOptions
        {
            Path = Path, MaxAge = TimeSpan.Zero, MaxSize = 0, FlushInterval = TimeSpan.FromHours(1), FlushRecords = 1_000_000,
        });
        var pid = 1000u;
        var batch = 0;
        void Write(int minutesAgo)
        {
            var comm = Commands[batch % Commands.Length];
            var tasks = batch % 3 + 1;
            var at = _origin.AddMinutes(-minutesAgo);
            var messages = new List<TaskstatsMessage>();
            for (var i = 0; i < tasks; i++, pid++)
            {
                var stats = ExitMessageBuilder.Stats(pid, comm);
                // Every other batch's last thread ends its process: a process record, which report must not count.
                var process = batch % 2 == 0 && i == tasks - 1
                    ? new TaskstatsRecord(TaskstatsScope.Tgid, pid, ExitMessageBuilder.Stats(pid, comm))
                    : (TaskstatsRecord?)null;
                messages.Add(new TaskstatsMessage(pid, new TaskstatsRecord(TaskstatsScope.Pid, pid, stats), process));
            }
            writer.Write(new ExitBatch(Shard0, messages, at));
            _written.Add((at, comm, tasks));
            batch++;
        }

        // A batch a commit, out of time order; then commits that mix times far apart.
        foreach (var minutesAgo in new[] { 50, 10, 90, 30, 70, 5, 120, 20, 65, 40 })
        {
            Write(minutesAgo);
            writer.Flush();
        }
        foreach (var commit in new[] { new[] { 80, 15 }, [55, 100, 2], [35, 75] })
        {
            foreach (var minutesAgo in commit)
                Write(minutesAgo);
            writer.Flush();
        }
    }

    private string Path { get; }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<bool> Versions => new() { false, true };

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task From_to_over_commits_written_out_of_time_order_should_count_exactly_the_exits_in_range(bool version1)
    {
        if (version1)
            MakeVersion1();
        var ranges = new (int FromMinutesAgo, int ToMinutesAgo)[]
        {
            (95, 25), (62, 8), (70, 30), (121, 119), (100, 99), (56, 54), (130, -1), (-60, -120),
            // Ranges that start exactly at a batch: its commit's span ends where they start.
            (50, 49), (120, 110), (90, 89), (2, 0),
        };

        foreach (var (fromAgo, toAgo) in ranges)
        {
            var from = _origin.AddMinutes(-fromAgo);
            var to = _origin.AddMinutes(-toAgo);
            var expected = _written.Where(w => w.At >= from && w.At < to).ToList();

            var report = await Report("--from", Text(from), "--to", Text(to), "--by", "comm", "--top", "100");

            var context = $"[{Text(from)}, {Text(to)}) version {(version1 ? 1 : 2)}";
            Assert.True(expected.Sum(w => w.Tasks) == report.GetProperty("exits").GetInt64(), context);
            Assert.True(CountByTime(from, to) == report.GetProperty("exits").GetInt64(), context);
            Assert.Equal(Expected(expected), Rows(report));
            if (expected.Count > 0)
            {
                Assert.Equal(expected.Min(w => w.At), report.GetProperty("first").GetDateTimeOffset());
                Assert.Equal(expected.Max(w => w.At), report.GetProperty("last").GetDateTimeOffset());
            }
            var losses = await Report("--from", Text(from), "--to", Text(to), "--losses");
            Assert.True(expected.Sum(w => w.Tasks) == losses.GetProperty("exits").GetInt64(), context + " --losses");
        }
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Since_over_commits_written_out_of_time_order_should_count_exactly_the_exits_of_that_last_span(bool version1)
    {
        if (version1)
            MakeVersion1();
        // No batch is written within 5 minutes of an hour ago: the moment the report starts does not matter.
        var from = _origin.AddHours(-1);
        var expected = _written.Where(w => w.At >= from).ToList();

        var report = await Report("--since", "1h", "--by", "comm", "--top", "100");

        Assert.Equal(expected.Sum(w => w.Tasks), report.GetProperty("exits").GetInt64());
        Assert.Equal(CountByTime(from, DateTimeOffset.MaxValue), report.GetProperty("exits").GetInt64());
        Assert.Equal(Expected(expected), Rows(report));
        Assert.Equal(expected.Min(w => w.At), report.GetProperty("first").GetDateTimeOffset());
        Assert.Equal(expected.Max(w => w.At), report.GetProperty("last").GetDateTimeOffset());
    }

    private async Task<JsonElement> Report(params string[] args)
    {
        var result = await ReportCli.RunAsync(["report", "--db", Path, "--json", .. args]);
        Assert.True(result.ExitCode == ExitCode.Success, result.ToString());
        return JsonDocument.Parse(result.Out).RootElement.Clone();
    }

    private static string Text(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static List<(string, long)> Expected(IEnumerable<(DateTimeOffset At, string Comm, int Tasks)> written) =>
        written.GroupBy(w => w.Comm).Select(g => (g.Key, (long)g.Sum(w => w.Tasks))).OrderBy(row => row.Key, StringComparer.Ordinal).ToList();

    private static List<(string, long)> Rows(JsonElement report) =>
        report.GetProperty("rows").EnumerateArray()
            .Select(row => (row.GetProperty("comm").GetString()!, row.GetProperty("exits").GetInt64()))
            .OrderBy(row => row.Item1, StringComparer.Ordinal).ToList();

    /// <summary>The task records received in [from, to), counted by their time alone.</summary>
    private long CountByTime(DateTimeOffset from, DateTimeOffset to)
    {
        using var connection = HistoryDatabase.OpenForReading(Path);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM exits WHERE scope = 'pid' AND time_us >= $from AND time_us < $to";
        command.Parameters.AddWithValue("$from", HistorySchema.ToUnixMicroseconds(from));
        command.Parameters.AddWithValue("$to", to == DateTimeOffset.MaxValue ? long.MaxValue : HistorySchema.ToUnixMicroseconds(to));
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Makes the history what version 1 wrote: no spans, an index on the exits' time, user_version 1.</summary>
    private void MakeVersion1()
    {
        using (var connection = new SqliteConnection($"Data Source={Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DROP TABLE exit_spans; CREATE INDEX exits_time ON exits (time_us); PRAGMA user_version = 1";
            command.ExecuteNonQuery();
        }
        using var check = HistoryDatabase.OpenForReading(Path);
        Assert.Null(ExitSpan.IdRange(check, long.MinValue, long.MaxValue));
    }
}
