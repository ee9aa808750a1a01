using Microsoft.Data.Sqlite;
using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Tests.Sqlite;

/// <summary>Batched transactions: when records become visible, what each event becomes, and what a failing write leaves.</summary>
public sealed class HistoryWriterSpecs : IDisposable
{
    private readonly HistoryFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Records_should_be_committed_together_once_a_transaction_holds_flush_records()
    {
        var options = _files.Options() with { FlushRecords = 1000 };
        using var writer = HistoryWriter.Open(options);

        for (var b = 0; b < 3; b++)
            writer.Write(HistoryFiles.Batch(300, firstPid: 1000 + (uint)b * 300));
        var beforeCommit = HistoryFiles.Count(options.Path, HistorySchema.Exits);
        writer.Write(HistoryFiles.Batch(300, firstPid: 1900));
        var afterCommit = HistoryFiles.Count(options.Path, HistorySchema.Exits);

        Assert.Equal(0, beforeCommit);
        Assert.Equal(1200, afterCommit);
        Assert.Equal(new HistoryWriterFigures(RecordsCommitted: 1200, RecordsPending: 0, Commits: 1, RecordsAbandoned: 0), writer.Figures);
    }

    [Fact]
    public void A_record_should_be_committed_within_flush_interval_when_nothing_else_comes()
    {
        var options = _files.Options() with { FlushInterval = TimeSpan.FromMilliseconds(200) };
        using var writer = HistoryWriter.Open(options);

        writer.Write(HistoryFiles.Batch(5));
        var written = DateTime.UtcNow;
        while (HistoryFiles.Count(options.Path, HistorySchema.Exits) == 0)
        {
            Assert.True(DateTime.UtcNow - written < TimeSpan.FromSeconds(10), "not committed after 10 s");
            Thread.Sleep(20);
        }

        Assert.Equal(5, HistoryFiles.Count(options.Path, HistorySchema.Exits));
        Assert.Equal(1, writer.Figures.Commits);
    }

    [Fact]
    public void Flush_and_dispose_should_commit_what_is_pending()
    {
        var options = _files.Options();
        var writer = HistoryWriter.Open(options);
        writer.Write(HistoryFiles.Batch(10));
        writer.Flush();
        var afterFlush = HistoryFiles.Count(options.Path, HistorySchema.Exits);
        writer.Write(HistoryFiles.Batch(10, firstPid: 2000));
        writer.Dispose();
        // The last connection to close folded the log into the database.
        var walLeft = File.Exists(options.Path + "-wal");

        Assert.Equal(10, afterFlush);
        Assert.Equal(20, HistoryFiles.Count(options.Path, HistorySchema.Exits));
        Assert.False(walLeft);
    }

    [Fact]
    public void A_process_record_should_be_a_tgid_row_with_the_same_seq_as_its_last_thread()
    {
        var options = _files.Options();
        var thread = HistoryFiles.Task(4243, "java", tgid: 4242);
        var process = new TaskstatsRecord(TaskstatsScope.Tgid, 4242, HistoryFiles.Task(4242, "java", tgid: 4242).Stats);
        using (var writer = HistoryWriter.Open(options))
            writer.Write(new ExitBatch(HistoryFiles.Shard0, [new TaskstatsMessage(9, thread, process)], HistoryFiles.T0));

        using var connection = HistoryFiles.Read(options.Path);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT scope, scope_id, seq, ac_pid, ac_tgid FROM exits ORDER BY id";
        using var reader = command.ExecuteReader();
        var rows = new List<(string, long, long, long, long)>();
        while (reader.Read())
            rows.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
        Assert.Equal([("pid", 4243, 9, 4243, 4242), ("tgid", 4242, 9, 4242, 4242)], rows);
    }

    [Fact]
    public void Losses_restarts_and_windows_should_be_stored_with_every_figure()
    {
        var options = _files.Options();
        var make = new GroupFigures("make", 120, 48_000, new Dictionary<DelayCategory, DelayFigures>
        {
            [DelayCategory.Cpu] = new(360, 3_600_000, 90_000),
            [DelayCategory.BlockIo] = new(4, 2_000_000, null),
        }, 4096, 0);
        var cc1 = new GroupFigures("cc1", 30, 2_400_000, new Dictionary<DelayCategory, DelayFigures> { [DelayCategory.Cpu] = new(900, 450_000_000, 5_000_000) }, 1 << 20, 1 << 16);
        var ld = new GroupFigures("ld", 2, 1_000, new Dictionary<DelayCategory, DelayFigures> { [DelayCategory.Irq] = new(1, 5, 5) }, 0, 0);
        var user = new GroupFigures("1000", 152, 2_449_000, new Dictionary<DelayCategory, DelayFigures>(), 0, 0);
        var process = new GroupFigures("4242", 30, 2_400_000, new Dictionary<DelayCategory, DelayFigures>(), 0, 0, Command: "cc1");
        var topByDelay = Enum.GetValues<DelayCategory>().ToDictionary(c => c, c => c switch
        {
            DelayCategory.Cpu => (IReadOnlyList<GroupFigures>)[cc1, make],
            DelayCategory.Irq => [ld],
            _ => [],
        });
        var window = new WindowSummaryData(HistoryFiles.T0, HistoryFiles.T0.AddSeconds(10), 152, 7, [make, cc1], [user], [process], topByDelay);

        using (var writer = HistoryWriter.Open(options))
        {
            writer.Write(new RecordsLost(HistoryFiles.Shard1, HistoryFiles.T0.AddSeconds(1), 123, LossSource.SocketDropCounter));
            writer.Write(new RecordsLost(HistoryFiles.Shard0, HistoryFiles.T0.AddSeconds(2), 4, LossSource.SequenceGap));
            writer.Write(new ListenerRestarted(HistoryFiles.Shard1, HistoryFiles.T0.AddSeconds(3), 8 << 20, "overflow"));
            writer.Write(window);
        }

        using var connection = HistoryFiles.Read(options.Path);
        Assert.Equal(["1|1|123|socket-drop-counter", "0|0|4|sequence-gap"], Rows(connection, "SELECT shard, cpus, count, source FROM losses ORDER BY id"));
        Assert.Equal(["1|1|8388608|overflow"], Rows(connection, "SELECT shard, cpus, receive_buffer, reason FROM listener_restarts"));
        var start = HistorySchema.ToUnixMicroseconds(HistoryFiles.T0);
        Assert.Equal([$"{start}|{start + 10_000_000}|152|7"], Rows(connection, "SELECT start_us, end_us, exits, lost FROM windows"));
        // Each command once: the top by exits, then those only a top-by-delay list names.
        Assert.Equal(
        [
            "comm|make|make|120|48000|4096|0|360|3600000|90000|4|2000000|",
            "comm|cc1|cc1|30|2400000|1048576|65536|900|450000000|5000000|||",
            "comm|ld|ld|2|1000|0|0||||||",
            "uid|1000||152|2449000|0|0||||||",
            "tgid|4242|cc1|30|2400000|0|0||||||",
        ], Rows(connection, "SELECT grouping, key, comm, exits, cpu_time_us, read_bytes, write_bytes, cpu_count, cpu_delay_total, cpu_delay_max, blkio_count, blkio_delay_total, blkio_delay_max FROM window_groups ORDER BY rowid"));
        Assert.Equal(["1|5|5"], Rows(connection, "SELECT irq_count, irq_delay_total, irq_delay_max FROM window_groups WHERE key = 'ld'"));
    }

    [Fact]
    public void A_write_that_fails_halfway_should_leave_none_of_its_rows_and_commit_the_events_before_it()
    {
        var options = _files.Options();
        using var writer = HistoryWriter.Open(options);
        using (var connection = new SqliteConnection($"Data Source={options.Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TRIGGER poison BEFORE INSERT ON exits WHEN NEW.ac_comm = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END";
            command.ExecuteNonQuery();
        }
        writer.Write(HistoryFiles.Batch(10, firstPid: 1000));
        var mixed = new ExitBatch(HistoryFiles.Shard0,
            [.. HistoryFiles.Batch(5, firstPid: 2000).Messages, new TaskstatsMessage(99, HistoryFiles.Task(3000, "poison"), null)], HistoryFiles.T0);

        Assert.Throws<SqliteException>(() => writer.Write(mixed));

        // The 10 before it are committed; none of the failed batch's 5 good records is there to be duplicated on a retry.
        Assert.Equal(10, HistoryFiles.Count(options.Path, HistorySchema.Exits));
        Assert.Equal(new HistoryWriterFigures(10, 0, 1, 0), writer.Figures);
        writer.Write(HistoryFiles.Batch(5, firstPid: 2000));
        writer.Flush();
        Assert.Equal(15, HistoryFiles.Count(options.Path, HistorySchema.Exits));
    }

    [Fact]
    public void Opening_an_existing_history_should_append_to_it()
    {
        var options = _files.Options();
        using (var writer = HistoryWriter.Open(options))
            writer.Write(HistoryFiles.Batch(10));
        using (var writer = HistoryWriter.Open(options))
            writer.Write(HistoryFiles.Batch(10, firstPid: 5000));

        Assert.Equal(20, HistoryFiles.Count(options.Path, HistorySchema.Exits));
        Assert.Equal(10, HistoryFiles.Count(options.Path, HistorySchema.Exits, "ac_pid >= 5000"));
    }

    [Fact]
    public void A_history_made_with_the_earlier_exits_indexes_should_be_written_and_queried_through_them_as_before()
    {
        var options = _files.Options();
        using (var writer = HistoryWriter.Open(options))
            writer.Write(HistoryFiles.Batch(10, comm: "old"));
        using (var connection = new SqliteConnection($"Data Source={options.Path}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // What files written before 2026-11-26 have besides the time index.
            command.CommandText = "CREATE INDEX exits_comm_time ON exits (ac_comm, time_us); CREATE INDEX exits_uid_time ON exits (ac_uid, time_us)";
            command.ExecuteNonQuery();
        }
        using (var writer = HistoryWriter.Open(options))
            writer.Write(HistoryFiles.Batch(10, firstPid: 5000, comm: "new"));

        using var reader = HistoryFiles.Read(options.Path);
        Assert.Equal(10, HistoryFiles.Scalar(reader, "SELECT count(*) FROM exits INDEXED BY exits_comm_time WHERE ac_comm = 'new'"));
        Assert.Equal(20, HistoryFiles.Scalar(reader, "SELECT count(*) FROM exits INDEXED BY exits_uid_time WHERE ac_uid = 1000"));
        Assert.Equal("ok", Text(reader, "PRAGMA integrity_check"));
    }

    [Fact]
    public void A_reader_should_keep_its_snapshot_while_the_writer_commits()
    {
        var options = _files.Options() with { FlushRecords = 100 };
        using var writer = HistoryWriter.Open(options);
        writer.Write(HistoryFiles.Batch(100));
        using var reader = HistoryFiles.Read(options.Path);
        using var transaction = reader.BeginTransaction(deferred: true); // a long report reads one snapshot
        var before = HistoryFiles.Scalar(reader, "SELECT count(*) FROM exits");

        writer.Write(HistoryFiles.Batch(100, firstPid: 2000));
        var during = HistoryFiles.Scalar(reader, "SELECT count(*) FROM exits");

        Assert.Equal((100, 100), (before, during));
        Assert.Equal(200, HistoryFiles.Count(options.Path, HistorySchema.Exits));
    }

    [Fact]
    public void The_log_should_stop_growing_while_the_writer_never_pauses()
    {
        // Small limits so that the writing crosses them many times over. The checkpointer's timer is driven
        // by the test, once between every two batches, so the outcome does not hang on how the machine
        // schedules a timer thread.
        var options = _files.Options() with
        {
            FlushRecords = 500,
            CheckpointInterval = TimeSpan.FromMilliseconds(100),
            LogFramesLimit = 64,
        };
        var wal = options.Path + "-wal";
        var timers = new ManualTimers();
        using var writer = HistoryWriter.Open(options, timers);
        var pid = 0u;
        void WriteBatches(int batches)
        {
            for (var i = 0; i < batches; i++)
            {
                writer.Write(HistoryFiles.Batch(500, firstPid: pid, at: HistoryFiles.T0.AddSeconds(pid / 500)));
                pid += 500;
                timers.Fire(options.CheckpointInterval);
            }
        }

        WriteBatches(30);
        var (logBefore, dataBefore, pidBefore) = (new FileInfo(wal).Length, new FileInfo(options.Path).Length, pid);
        WriteBatches(40);
        writer.Flush();
        var (logAfter, dataAfter) = (new FileInfo(wal).Length, new FileInfo(options.Path).Length);

        // The log file keeps its largest size; had the log not restarted from its beginning, it would have grown by
        // at least what the database did (every page reaches the database through it).
        Assert.True(pid - pidBefore >= 20_000, $"only {pid - pidBefore} records written in the second phase");
        Assert.True(logAfter - logBefore < (dataAfter - dataBefore) / 2,
            $"the log grew by {logAfter - logBefore} bytes while the database grew by {dataAfter - dataBefore}");
    }

    /// <summary>System time, but timers that run only when the test fires them (by their period).</summary>
    private sealed class ManualTimers : TimeProvider
    {
        private readonly List<ManualTimer> _timers = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new ManualTimer(callback, state, period);
            lock (_timers)
                _timers.Add(timer);
            return timer;
        }

        /// <summary>Runs the callback of every timer whose period is <paramref name="period"/>.</summary>
        public void Fire(TimeSpan period)
        {
            ManualTimer[] due;
            lock (_timers)
                due = _timers.Where(t => t.Period == period && !t.Disposed).ToArray();
            foreach (var timer in due)
                timer.Callback(timer.State);
        }

        private sealed class ManualTimer(TimerCallback callback, object? state, TimeSpan period) : ITimer
        {
            public TimerCallback Callback { get; } = callback;
            public object? State { get; } = state;
            public TimeSpan Period { get; private set; } = period;
            public bool Disposed { get; private set; }

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                Period = period;
                return true;
            }

            public void Dispose() => Disposed = true;

            public ValueTask DisposeAsync()
            {
                Disposed = true;
                return ValueTask.CompletedTask;
            }
        }
    }

    private static List<string> Rows(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
            rows.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }

    private static string Text(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (string)command.ExecuteScalar()!;
    }
}
