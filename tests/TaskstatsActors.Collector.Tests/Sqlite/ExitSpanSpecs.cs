using Microsoft.Data.Sqlite;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Tests.Sqlite;

/// <summary>
/// Exit spans (schema version 2): a span per commit that holds exactly its exit rows, time ranges narrowed to
/// the ids of the spans that overlap them without losing or adding a row, max-age retention through spans
/// written out of time order, and version 1 files brought to version 2.
/// </summary>
public sealed class ExitSpanSpecs : IDisposable
{
    /// <summary>The exit rows that lie in no span: the invariant says there are none.</summary>
    private const string RowsOutsideEverySpan =
        "SELECT count(*) FROM exits e WHERE NOT EXISTS (SELECT 1 FROM exit_spans s " +
        "WHERE e.id BETWEEN s.first_id AND s.last_id AND e.time_us BETWEEN s.min_time_us AND s.max_time_us)";

    private const string SpansHoldingNoRow =
        "SELECT count(*) FROM exit_spans s WHERE NOT EXISTS (SELECT 1 FROM exits e WHERE e.id BETWEEN s.first_id AND s.last_id)";

    private readonly HistoryFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>The system's timers, but a clock that says what the spec wants.</summary>
    private sealed class SetClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static long Us(DateTimeOffset time) => HistorySchema.ToUnixMicroseconds(time);

    [Fact]
    public void Each_commit_should_write_one_span_holding_exactly_its_exit_rows_and_a_write_failing_halfway_none_of_its_own()
    {
        var t0 = HistoryFiles.T0;
        var options = _files.Options();
        using (var writer = HistoryWriter.Open(options))
        {
            Poison(options.Path);
            // Commit 1 (pids 1xxx): the later batch was received earlier.
            writer.Write(HistoryFiles.Batch(10, firstPid: 1000, at: t0.AddSeconds(5)));
            writer.Write(HistoryFiles.Batch(5, firstPid: 1100, at: t0.AddSeconds(2)));
            writer.Flush();
            // A commit without exits: no span.
            writer.Write(new RecordsLost(HistoryFiles.Shard1, t0.AddSeconds(3), 7, LossSource.SocketDropCounter));
            writer.Flush();
            // Commit 2 (pids 2xxx): a thread with its process record, then a batch one microsecond later.
            var thread = HistoryFiles.Task(2001, "java", tgid: 2000);
            var process = new TaskstatsRecord(TaskstatsScope.Tgid, 2000, HistoryFiles.Task(2000, "java", tgid: 2000).Stats);
            writer.Write(new ExitBatch(HistoryFiles.Shard1, [new TaskstatsMessage(1, thread, process)], t0.AddSeconds(1)));
            writer.Write(HistoryFiles.Batch(3, firstPid: 2100, shard: HistoryFiles.Shard1, at: t0.AddSeconds(1).AddTicks(10)));
            writer.Flush();
            // Commit 3 (pids 3xxx): a good batch, then one that fails halfway, received long before: the commit
            // the failure makes must hold the good batch only, neither the failed batch's ids nor its time.
            writer.Write(HistoryFiles.Batch(4, firstPid: 3000, at: t0.AddSeconds(20)));
            var mixed = new ExitBatch(HistoryFiles.Shard0,
                [.. HistoryFiles.Batch(5, firstPid: 3100).Messages, new TaskstatsMessage(99, HistoryFiles.Task(3200, "poison"), null)],
                t0.AddSeconds(-100));
            Assert.Throws<SqliteException>(() => writer.Write(mixed));
            Assert.Equal(new HistoryWriterFigures(24, 0, 4, 0), writer.Figures);
            // Commit 4 (pids 4xxx), by Dispose: it takes the ids the failed write had taken and gave back.
            writer.Write(HistoryFiles.Batch(6, firstPid: 4000, at: t0.AddSeconds(30)));
        }

        using var connection = HistoryFiles.Read(options.Path);
        var spans = Spans(connection);
        // What each commit wrote, told apart by its pids, not by the spans.
        var commits = Quads(connection, "SELECT min(id), max(id), min(time_us), max(time_us) FROM exits GROUP BY ac_pid / 1000 ORDER BY min(id)");
        Assert.Equal(commits, spans);
        Assert.Equal(
        [
            (1, 15, Us(t0.AddSeconds(2)), Us(t0.AddSeconds(5))),
            (16, 20, Us(t0.AddSeconds(1)), Us(t0.AddSeconds(1)) + 1),
            (21, 24, Us(t0.AddSeconds(20)), Us(t0.AddSeconds(20))),
            (25, 30, Us(t0.AddSeconds(30)), Us(t0.AddSeconds(30))),
        ], spans);
        Assert.Equal(30, HistoryFiles.Scalar(connection, "SELECT count(*) FROM exits"));
        Assert.Equal(0, HistoryFiles.Scalar(connection, "SELECT count(*) FROM exits WHERE ac_pid BETWEEN 3100 AND 3200"));
        Assert.Equal(0, HistoryFiles.Scalar(connection, RowsOutsideEverySpan));
    }

    [Fact]
    public void A_time_range_narrowed_to_the_ids_of_its_spans_should_neither_lose_nor_add_a_row()
    {
        var t0 = HistoryFiles.T0;
        var random = new Random(20251126);
        var options = _files.Options();
        using (var writer = HistoryWriter.Open(options))
        {
            uint pid = 1000;
            // One batch a commit, out of time order.
            foreach (var seconds in new[] { 5, 1, 9, 3, 7, 0, 8, 2, 6, 4 })
            {
                writer.Write(HistoryFiles.Batch(3, firstPid: pid, at: t0.AddSeconds(seconds)));
                pid += 3;
                writer.Flush();
            }
            // Commits that mix times, near and far apart, some before and after all of the above.
            for (var c = 0; c < 25; c++)
            {
                var batches = random.Next(1, 5);
                for (var b = 0; b < batches; b++)
                {
                    var at = t0.AddMilliseconds(random.Next(-2_000, 12_000)).AddTicks(random.Next(0, 1_000) * 10);
                    var count = random.Next(1, 4);
                    writer.Write(HistoryFiles.Batch(count, firstPid: pid, at: at));
                    pid += (uint)count;
                }
                writer.Flush();
            }
            // Last, two commits whose times no other commit reaches: ranges of their time read their ids only.
            writer.Write(HistoryFiles.Batch(2, firstPid: pid, at: t0.AddSeconds(20)));
            writer.Flush();
            writer.Write(HistoryFiles.Batch(2, firstPid: pid + 2, at: t0.AddSeconds(-10)));
            writer.Flush();
        }

        using var connection = HistoryFiles.Read(options.Path);
        var total = HistoryFiles.Scalar(connection, "SELECT count(*) FROM exits");
        var times = Longs(connection, "SELECT DISTINCT time_us FROM exits ORDER BY 1");
        var (lo, hi) = (Us(t0) - 12_000_000, Us(t0) + 22_000_000);
        var ranges = new List<(long From, long To)>
        {
            (long.MinValue, long.MaxValue),
            (Us(t0) + 3_000_000, Us(t0) + 3_000_000), // empty
            (Us(t0) + 9_000_000, Us(t0) + 1_000_000), // from after to
        };
        foreach (var time in times)
            ranges.AddRange([(time, time + 1), (time, time), (time - 1, time), (time + 1, hi), (lo, time), (time, long.MaxValue)]);
        for (var i = 0; i < 400; i++)
        {
            var from = random.NextInt64(lo, hi);
            ranges.Add((from, i % 10 == 0 ? from - random.NextInt64(0, 2_000_000) : from + random.NextInt64(0, 4_000_000)));
        }

        foreach (var (from, to) in ranges)
        {
            var ids = ExitSpan.IdRange(connection, from, to);
            Assert.NotNull(ids);
            var (first, last) = ids.Value;
            var byTime = Count(connection, "time_us >= $from AND time_us < $to", from, to);
            var byIds = Count(connection, "id BETWEEN $first AND $last AND time_us >= $from AND time_us < $to", from, to, first, last);
            Assert.True(byTime == byIds, $"[{from}, {to}): {byTime} exits by time, {byIds} within ids {first}-{last}");
        }
        Assert.Equal((total - 3, total - 2), ExitSpan.IdRange(connection, Us(t0.AddSeconds(20)), Us(t0.AddSeconds(20)) + 1));
        Assert.Equal((total - 1, total), ExitSpan.IdRange(connection, Us(t0.AddSeconds(-10)) - 5, Us(t0.AddSeconds(-10)) + 1));

        // No span overlaps a range beyond (or before) all the data: the empty id range.
        Assert.Equal((1L, 0L), ExitSpan.IdRange(connection, hi, hi + 60_000_000));
        Assert.Equal((1L, 0L), ExitSpan.IdRange(connection, lo - 60_000_000, times[0]));
        Assert.Equal(0, HistoryFiles.Scalar(connection, RowsOutsideEverySpan));
    }

    [Fact]
    public void Max_age_should_delete_exactly_the_exits_older_than_the_cutoff_through_spans_written_out_of_time_order()
    {
        var now = HistoryFiles.T0;
        var maxAge = TimeSpan.FromDays(30);
        var cutoff = Us(now - maxAge);
        var options = _files.Options();
        using (var writer = HistoryWriter.Open(options))
        {
            uint pid = 1;
            void Write(int count, DateTimeOffset at)
            {
                writer.Write(HistoryFiles.Batch(count, firstPid: pid, at: at));
                pid += (uint)count;
            }

            // A commit a batch, out of time order, on both sides of the cutoff.
            foreach (var days in new[] { 40, 10, 35, 5, 31, 29, 50, 1 })
            {
                Write(10, now.AddDays(-days));
                writer.Flush();
            }
            // A commit across the cutoff: what is left of it is younger than the cutoff.
            Write(5, now.AddDays(-45));
            Write(5, now.AddDays(-2));
            Write(5, now.AddDays(-31));
            Write(5, now.AddDays(-20));
            writer.Flush();
            // One a microsecond before the cutoff goes, one at the cutoff stays.
            Write(3, HistorySchema.FromUnixMicroseconds(cutoff));
            Write(3, HistorySchema.FromUnixMicroseconds(cutoff - 1));
            writer.Flush();
            // More old rows in one span than a retention step deletes, with young ones in between.
            Write(HistoryRetention.ChunkRows / 3, now.AddDays(-60));
            Write(500, now.AddDays(-3));
            Write(HistoryRetention.ChunkRows / 3, now.AddDays(-61));
            Write(500, now.AddDays(-4));
            Write(HistoryRetention.ChunkRows / 3 + 1_000, now.AddDays(-59));
            writer.Flush();
            Write(10, now.AddDays(-1));
        }
        const string kept = "SELECT count(*), total(id), total(ac_pid) FROM exits WHERE time_us >= {0}";
        long old;
        (long, long, long) young;
        using (var connection = HistoryFiles.Read(options.Path))
        {
            old = HistoryFiles.Scalar(connection, $"SELECT count(*) FROM exits WHERE time_us < {cutoff}");
            young = Triple(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, kept, cutoff));
            Assert.True(old > HistoryRetention.ChunkRows, $"{old} old rows");
            Assert.True(HistoryFiles.Scalar(connection, $"SELECT count(*) FROM exit_spans WHERE min_time_us < {cutoff}") >= 7);
        }

        RetentionResult again;
        using (var writer = HistoryWriter.Open(options with { MaxAge = maxAge }, new SetClock(now)))
            again = writer.EnforceRetention();

        using var after = HistoryFiles.Read(options.Path);
        Assert.Equal(0, again.ExitsDeleted); // Open enforced it already, all of it
        Assert.Equal(0, HistoryFiles.Scalar(after, $"SELECT count(*) FROM exits WHERE time_us < {cutoff}"));
        Assert.Equal(young, Triple(after, string.Format(System.Globalization.CultureInfo.InvariantCulture, kept, cutoff)));
        Assert.Equal(young.Item1, HistoryFiles.Scalar(after, "SELECT count(*) FROM exits"));
        Assert.Equal(0, HistoryFiles.Scalar(after, RowsOutsideEverySpan));
        Assert.Equal(0, HistoryFiles.Scalar(after, $"SELECT count(*) FROM exit_spans WHERE min_time_us < {cutoff}"));
        Assert.Equal(0, HistoryFiles.Scalar(after, SpansHoldingNoRow));
        // Every span kept is exactly the rows left in it: the one across the cutoff was narrowed to them.
        Assert.Equal(
            Quads(after, "SELECT min(e.id), max(e.id), min(e.time_us), max(e.time_us) FROM exit_spans s JOIN exits e ON e.id BETWEEN s.first_id AND s.last_id GROUP BY s.id ORDER BY s.id"),
            Spans(after));
        Assert.Contains(Spans(after), span => span.MinTimeUs == Us(now.AddDays(-20)) && span.MaxTimeUs == Us(now.AddDays(-2)));
        Assert.Contains(Spans(after), span => span.MinTimeUs == Us(now.AddDays(-4)) && span.MaxTimeUs == Us(now.AddDays(-3)));
        Assert.Contains(Spans(after), span => span.MinTimeUs == cutoff && span.MaxTimeUs == cutoff);
        // Ranges still read exactly their rows.
        foreach (var (from, to) in new[] { (cutoff, long.MaxValue), (long.MinValue, cutoff + 1), (Us(now.AddDays(-5)), Us(now.AddDays(-2))) })
        {
            var (first, last) = ExitSpan.IdRange(after, from, to)!.Value;
            Assert.Equal(Count(after, "time_us >= $from AND time_us < $to", from, to),
                Count(after, "id BETWEEN $first AND $last AND time_us >= $from AND time_us < $to", from, to, first, last));
        }
    }

    [Fact]
    public void A_version_1_history_should_be_read_as_it_is_and_brought_to_version_2_by_the_writer_keeping_its_time_index()
    {
        var now = HistoryFiles.T0;
        var maxAge = TimeSpan.FromDays(30);
        var cutoff = Us(now - maxAge);
        var options = _files.Options();
        uint pid = 1;
        void Write(HistoryWriter writer, int count, double daysAgo)
        {
            writer.Write(HistoryFiles.Batch(count, firstPid: pid, at: now.AddDays(-daysAgo)));
            pid += (uint)count;
            writer.Flush();
        }

        using (var writer = HistoryWriter.Open(options))
        {
            foreach (var days in new[] { 40, 10, 35, 1, 31.5 })
                Write(writer, 5, days);
        }
        MakeVersion1(options.Path);

        (long, long, long, long) oldRows;
        using (var v1 = HistoryFiles.Read(options.Path))
        {
            Assert.Equal(1, HistoryFiles.Scalar(v1, "PRAGMA user_version"));
            Assert.Null(ExitSpan.IdRange(v1, long.MinValue, long.MaxValue));
            Assert.Null(ExitSpan.IdRange(v1, cutoff, long.MaxValue));
            Assert.Equal(25, HistoryFiles.Scalar(v1, "SELECT count(*) FROM exits"));
            oldRows = Quads(v1, "SELECT min(id), max(id), min(time_us), max(time_us) FROM exits").Single();
        }

        using (var writer = HistoryWriter.Open(options))
        {
            using (var upgraded = HistoryFiles.Read(options.Path))
            {
                Assert.Equal(2, HistoryFiles.Scalar(upgraded, "PRAGMA user_version"));
                Assert.Equal(HistorySchema.ApplicationId, HistoryFiles.Scalar(upgraded, "PRAGMA application_id"));
                Assert.Equal([oldRows], Spans(upgraded));
                Assert.Equal((1L, 25L, Us(now.AddDays(-40)), Us(now.AddDays(-1))), oldRows);
                Assert.Equal(["exit_spans_max_time", "exit_spans_min_time", "exits_time"], IndexesOn(upgraded, "exits", "exit_spans"));
                Assert.Null(ExitSpan.IdRange(upgraded, long.MinValue, long.MaxValue));
            }
            Write(writer, 4, 20);
            Write(writer, 4, 50);
            Write(writer, 4, 0.5);
        }

        using (var written = HistoryFiles.Read(options.Path))
        {
            Assert.Equal(
            [
                oldRows,
                (26, 29, Us(now.AddDays(-20)), Us(now.AddDays(-20))),
                (30, 33, Us(now.AddDays(-50)), Us(now.AddDays(-50))),
                (34, 37, Us(now.AddDays(-0.5)), Us(now.AddDays(-0.5))),
            ], Spans(written));
            Assert.Equal(0, HistoryFiles.Scalar(written, RowsOutsideEverySpan));
            Assert.Null(ExitSpan.IdRange(written, cutoff, long.MaxValue));
            Assert.Equal(1, HistoryFiles.Scalar(written, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'exits_time'"));
        }

        const string young = "SELECT count(*), total(id), total(ac_pid) FROM exits WHERE time_us >= ";
        var youngBefore = Triple(options.Path, young + cutoff);
        Assert.Equal(19, HistoryFiles.Count(options.Path, HistorySchema.Exits, $"time_us < {cutoff}"));

        using (var writer = HistoryWriter.Open(options with { MaxAge = maxAge }, new SetClock(now)))
            Assert.Equal(0, writer.EnforceRetention().ExitsDeleted); // Open enforced it already

        using var trimmed = HistoryFiles.Read(options.Path);
        Assert.Equal(0, HistoryFiles.Scalar(trimmed, $"SELECT count(*) FROM exits WHERE time_us < {cutoff}"));
        Assert.Equal(youngBefore, Triple(trimmed, young + cutoff));
        Assert.Equal(youngBefore.Item1, HistoryFiles.Scalar(trimmed, "SELECT count(*) FROM exits"));
        Assert.Equal(0, HistoryFiles.Scalar(trimmed, RowsOutsideEverySpan));
        Assert.Equal(2, HistoryFiles.Scalar(trimmed, "PRAGMA user_version"));
        Assert.Equal(1, HistoryFiles.Scalar(trimmed, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'exits_time'"));
    }

    [Fact]
    public void An_empty_version_1_history_should_get_no_span_until_it_is_written()
    {
        var options = _files.Options();
        using (HistoryWriter.Open(options))
        {
        }
        MakeVersion1(options.Path);

        using (var writer = HistoryWriter.Open(options))
        {
            Assert.Equal(0, HistoryFiles.Count(options.Path, HistorySchema.ExitSpans));
            writer.Write(HistoryFiles.Batch(3, at: HistoryFiles.T0));
        }

        using var connection = HistoryFiles.Read(options.Path);
        Assert.Equal([(1L, 3L, Us(HistoryFiles.T0), Us(HistoryFiles.T0))], Spans(connection));
        Assert.Equal(2, HistoryFiles.Scalar(connection, "PRAGMA user_version"));
    }

    /// <summary>Makes the history what version 1 wrote: no spans, an index on the exits' time, user_version 1.</summary>
    private static void MakeVersion1(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DROP TABLE exit_spans; CREATE INDEX exits_time ON exits (time_us); PRAGMA user_version = 1";
        command.ExecuteNonQuery();
    }

    /// <summary>A trigger that fails the insert of a record of command "poison".</summary>
    private static void Poison(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "CREATE TRIGGER poison BEFORE INSERT ON exits WHEN NEW.ac_comm = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END";
        command.ExecuteNonQuery();
    }

    private static List<(long FirstId, long LastId, long MinTimeUs, long MaxTimeUs)> Spans(SqliteConnection connection) =>
        Quads(connection, "SELECT first_id, last_id, min_time_us, max_time_us FROM exit_spans ORDER BY id");

    private static List<(long, long, long, long)> Quads(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<(long, long, long, long)>();
        while (reader.Read())
            rows.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
        return rows;
    }

    private static (long, long, long) Triple(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), (long)reader.GetDouble(1), (long)reader.GetDouble(2));
    }

    private static (long, long, long) Triple(string path, string sql)
    {
        using var connection = HistoryFiles.Read(path);
        return Triple(connection, sql);
    }

    private static List<long> Longs(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<long>();
        while (reader.Read())
            values.Add(reader.GetInt64(0));
        return values;
    }

    private static List<string> IndexesOn(SqliteConnection connection, params string[] tables)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ({string.Join(", ", tables.Select(t => $"'{t}'"))}) ORDER BY name";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
            names.Add(reader.GetString(0));
        return names;
    }

    private static long Count(SqliteConnection connection, string where, long from, long to, long? first = null, long? last = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM exits WHERE {where}";
        command.Parameters.AddWithValue("$from", from);
        command.Parameters.AddWithValue("$to", to);
        if (first is { } f && last is { } l)
        {
            command.Parameters.AddWithValue("$first", f);
            command.Parameters.AddWithValue("$last", l);
        }
        return (long)command.ExecuteScalar()!;
    }
}
