using System.Diagnostics;
using Microsoft.Data.Sqlite;
using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>What a <see cref="HistoryWriter"/> has done so far.</summary>
/// <param name="RecordsCommitted">Exit records in committed transactions.</param>
/// <param name="RecordsPending">Exit records written into the open transaction, not yet committed.</param>
/// <param name="Commits">Transactions committed.</param>
/// <param name="RecordsAbandoned">Records of transactions that failed to commit (a full or failing disk).</param>
public readonly record struct HistoryWriterFigures(long RecordsCommitted, long RecordsPending, long Commits, long RecordsAbandoned);

/// <summary>
/// Writes the collector's events into a history database (<see cref="HistorySchema"/>) in batched
/// transactions: events go into one open transaction, which is committed when it holds
/// <see cref="HistoryOptions.FlushRecords"/> records or has been open for <see cref="HistoryOptions.FlushInterval"/>,
/// whichever comes first, and on <see cref="Flush"/> and <see cref="Dispose"/>. The write-ahead log makes a
/// commit atomic: a crash or <c>kill -9</c> loses at most the open transaction, and never corrupts the file.
/// Retention (<see cref="HistoryOptions.MaxAge"/>, <see cref="HistoryOptions.MaxSize"/>) is enforced on open and
/// every <see cref="HistoryOptions.RetentionInterval"/>.
/// </summary>
/// <remarks>
/// One thread writes at a time (the sink actor); timers commit and enforce retention from the thread pool,
/// under the same lock. The write-ahead log is folded into the database by a <see cref="HistoryCheckpointer"/>
/// on a connection of its own, so that commits never wait for a checkpoint's copying and <c>fsync</c>.
/// Each event is written under a savepoint: if it fails halfway, its rows are rolled back and the events before
/// it are committed, so the event can be written again (as the sink's restart does) without duplicating rows.
/// </remarks>
public sealed class HistoryWriter : IDisposable
{
    // Above this a log left behind takes a noticeable time to replay.
    private const long LongLogBytes = 64L << 20;

    // How often a long retention pass says how far it got.
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(5);

    private readonly object _gate = new();
    private readonly HistoryOptions _options;
    private readonly TimeProvider _time;
    private readonly Action<string> _log;
    private readonly SqliteConnection _connection;
    private readonly ExitRecordInsert _exits;
    private readonly HistoryEventInserts _events;
    private readonly HistoryRetention _retention;
    private readonly ITimer _flushTimer;
    private readonly ITimer? _retentionTimer;
    private readonly HistoryCheckpointer _checkpointer;

    private SqliteTransaction? _transaction;
    // The exit rows of the event being written, and of the open transaction's events written whole: the
    // transaction's span is written with it at commit (HistorySchema.ExitSpans).
    private ExitSpan? _eventSpan;
    private ExitSpan? _openSpan;
    private long _pending;
    private long _committed;
    private long _commits;
    private long _abandoned;
    private bool _disposed;

    private HistoryWriter(HistoryOptions options, TimeProvider time, Action<string> log)
    {
        _options = options;
        _time = time;
        _log = log;
        // A collector that did not stop cleanly leaves its log, which SQLite replays on open: say why this takes long.
        var leftLog = new FileInfo(System.IO.Path.GetFullPath(options.Path) + "-wal");
        if (leftLog.Exists && leftLog.Length > LongLogBytes)
            log($"history {System.IO.Path.GetFullPath(options.Path)}: replaying the {Mib(leftLog.Length)} write-ahead log a collector left when it stopped without closing the file");
        _connection = HistoryDatabase.OpenForWriting(options.Path, options.SynchronousFull);
        try
        {
            // The checkpointer's thread folds the log into the database, never a commit on the sink's thread.
            using (var command = _connection.CreateCommand())
            {
                command.CommandText = "PRAGMA wal_autocheckpoint = 0";
                command.ExecuteNonQuery();
            }
            _exits = new ExitRecordInsert(_connection);
            _events = new HistoryEventInserts(_connection);
            _retention = new HistoryRetention(_connection, options.MaxAge, options.MaxSize);
            _checkpointer = new HistoryCheckpointer(_connection.DataSource, options.CheckpointInterval, options.LogFramesLimit, time, log);
        }
        catch
        {
            _exits?.Dispose();
            _events?.Dispose();
            _connection.Dispose();
            throw;
        }
        _flushTimer = time.CreateTimer(_ => OnFlushTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (_retention.Enabled)
            _retentionTimer = time.CreateTimer(_ => OnRetentionTimer(), null, options.RetentionInterval, options.RetentionInterval);
    }

    /// <summary>The full path of the database file.</summary>
    public string Path => _connection.DataSource;

    /// <summary>What has been written so far.</summary>
    public HistoryWriterFigures Figures
    {
        get
        {
            lock (_gate)
                return new HistoryWriterFigures(_committed, _pending, _commits, _abandoned);
        }
    }

    /// <summary>
    /// Opens (creating it if needed) the history at <see cref="HistoryOptions.Path"/> and enforces retention once.
    /// </summary>
    /// <param name="options">Where and how to write.</param>
    /// <param name="time">The clock of the timers and of the age limit; null for the system's.</param>
    /// <param name="log">Where to tell about retention and failed commits; null to stay silent.</param>
    /// <exception cref="HistoryFormatException">The file is not a history this code writes.</exception>
    /// <exception cref="SqliteException">The file cannot be opened or created.</exception>
    public static HistoryWriter Open(HistoryOptions options, TimeProvider? time = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var writer = new HistoryWriter(options, time ?? TimeProvider.System, log ?? (_ => { }));
        try
        {
            writer.EnforceRetention();
        }
        catch
        {
            writer.Dispose();
            throw;
        }
        return writer;
    }

    /// <summary>Writes every record of the batch: the task's and, where it rode along, the process's.</summary>
    public void Write(ExitBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var time = HistorySchema.ToUnixMicroseconds(batch.ReceivedAt);
        var shard = batch.Shard.Index;
        Append(() =>
        {
            var count = 0;
            long first = long.MaxValue, last = long.MinValue;
            void Insert(uint sequence, in TaskstatsRecord record)
            {
                var id = _exits.Insert(time, shard, sequence, record);
                (first, last) = (Math.Min(first, id), Math.Max(last, id));
                count++;
            }
            var messages = batch.Messages;
            for (var i = 0; i < messages.Count; i++)
            {
                var message = messages[i];
                if (message.Task is { } task)
                    Insert(message.Sequence, task);
                if (message.Process is { } process)
                    Insert(message.Sequence, process);
            }
            if (count > 0)
                _eventSpan = new ExitSpan(first, last, time, time);
            return count;
        });
    }

    /// <summary>Writes a loss.</summary>
    public void Write(RecordsLost loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        Append(() =>
        {
            _events.Insert(loss);
            return 0;
        });
    }

    /// <summary>Writes a listener's socket replacement.</summary>
    public void Write(ListenerRestarted restart)
    {
        ArgumentNullException.ThrowIfNull(restart);
        Append(() =>
        {
            _events.Insert(restart);
            return 0;
        });
    }

    /// <summary>Writes a window summary and its groups.</summary>
    public void Write(WindowSummaryData window)
    {
        ArgumentNullException.ThrowIfNull(window);
        Append(() =>
        {
            _events.Insert(window);
            return 0;
        });
    }

    /// <summary>Commits the open transaction, if any: everything written so far is then in the file.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Commit();
        }
    }

    /// <summary>
    /// Commits what is pending, then deletes what the retention limits no longer allow and returns the freed
    /// space to the file system. Runs in short steps, letting writes in between.
    /// </summary>
    public RetentionResult EnforceRetention()
    {
        if (!_retention.Enabled)
            return new RetentionResult(0, 0, 0, 0);
        var clock = Stopwatch.StartNew();
        long exits = 0, others = 0, before;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Commit();
            before = _retention.UsedBytes();
        }
        var reported = TimeSpan.Zero;
        while (true)
        {
            lock (_gate)
            {
                if (_disposed)
                    return new RetentionResult(exits, others, before, before);
                Commit();
                var (stepExits, stepOthers) = _retention.Step(_time.GetUtcNow());
                exits += stepExits;
                others += stepOthers;
                if (stepExits == 0 && stepOthers == 0)
                    break;
            }
            if (clock.Elapsed - reported >= ProgressInterval)
            {
                reported = clock.Elapsed;
                _log($"history {Path}: retention: {exits} exit records and {others} other rows deleted so far ({clock.Elapsed.TotalSeconds:0} s)…");
            }
            // Between steps the sink may write (the lock is fair enough: it is waiting on it).
            Thread.Yield();
        }
        long after;
        lock (_gate)
        {
            if (_disposed)
                return new RetentionResult(exits, others, before, before);
            if (exits + others > 0)
            {
                Commit();
                _retention.Shrink();
            }
            after = _retention.UsedBytes();
        }
        var result = new RetentionResult(exits, others, before, after);
        if (!result.Idle)
            _log($"history {Path}: retention deleted {exits} exit records and {others} other rows in {clock.Elapsed.TotalSeconds:0.0} s; " +
                 $"the data took {Mib(before)}, now {Mib(after)}");
        return result;
    }

    /// <summary>Commits what is pending and closes the file (the last connection to close folds the log into the database).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _flushTimer.Dispose();
            _retentionTimer?.Dispose();
            // Closed first, so that the writer's connection is the last: it folds the log in and removes it.
            _checkpointer.Dispose();
            try
            {
                TryCommit();
            }
            finally
            {
                _exits.Dispose();
                _events.Dispose();
                _connection.Dispose();
            }
        }
    }

    private void Append(Func<int> write)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_transaction is null)
                Begin();
            var transaction = _transaction!;
            transaction.Save("event");
            _eventSpan = null;
            int records;
            try
            {
                records = write();
                transaction.Release("event");
            }
            catch
            {
                _eventSpan = null;
                // Undo this event only, keep the ones before it; if even that fails, the transaction is gone.
                try
                {
                    transaction.Rollback("event");
                    transaction.Release("event");
                }
                catch (Exception e)
                {
                    Abandon("a write failed and the open transaction could not be kept", e);
                    throw;
                }
                Commit();
                throw;
            }
            if (_eventSpan is { } written)
                _openSpan = _openSpan is { } open ? open.Including(written) : written;
            _eventSpan = null;
            _pending += records;
            // A failure is not thrown on: this event is in the abandoned transaction and counted there, so a
            // sink that wrote it again after a restart would count its records twice.
            if (_pending >= _options.FlushRecords)
                TryCommit();
        }
    }

    private void Begin()
    {
        _transaction = _connection.BeginTransaction();
        _events.Enlist(_transaction);
        _flushTimer.Change(_options.FlushInterval, Timeout.InfiniteTimeSpan);
    }

    private void Commit()
    {
        if (_transaction is not { } transaction)
            return;
        try
        {
            if (_openSpan is { } span)
                _events.Insert(span);
            transaction.Commit();
        }
        catch (Exception e)
        {
            // A full or failing disk. SQLite may have rolled the transaction back already; either way none of
            // it is in the file, and the writer starts the next event in a transaction of its own.
            Abandon("a commit failed", e);
            throw;
        }
        transaction.Dispose();
        _transaction = null;
        _openSpan = null;
        _events.Enlist(null);
        _committed += _pending;
        _pending = 0;
        _commits++;
        if (_checkpointer.RestartWanted)
            RestartLog();
    }

    // For callers with no one to throw to: a commit that fails has abandoned its transaction and said so, and the
    // next event starts a new one.
    private void TryCommit()
    {
        try
        {
            Commit();
        }
        catch (Exception)
        {
            // Counted and logged by Commit.
        }
    }

    // Between two transactions: finish what the checkpointer copied, so that the next one restarts the log.
    // If the checkpointer is at it right now (busy), or this fails, try again after the next commit: what was
    // committed is in the file either way, and a failure here must not make a caller write it again.
    private void RestartLog()
    {
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
            using var reader = command.ExecuteReader();
            if (reader.Read() && reader.GetInt64(0) == 0 && reader.GetInt64(1) == reader.GetInt64(2))
                _checkpointer.RestartDone();
        }
        catch (SqliteException e)
        {
            _log($"history {Path}: finishing a checkpoint failed, trying again after the next commit: {e.Message}");
        }
    }

    private void Abandon(string what, Exception error)
    {
        _log($"history {Path}: {what}, {_pending} records are lost: {error.Message}");
        try
        {
            _transaction?.Dispose(); // rolls back what is left of it
        }
        catch (SqliteException)
        {
            // The connection already rolled it back.
        }
        _transaction = null;
        _openSpan = null;
        _events.Enlist(null);
        _abandoned += _pending;
        _pending = 0;
    }

    private void OnFlushTimer()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            TryCommit();
        }
    }

    private void OnRetentionTimer()
    {
        try
        {
            EnforceRetention();
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile.
        }
        catch (Exception e)
        {
            _log($"history {Path}: enforcing retention failed, trying again in {_options.RetentionInterval}: {e.Message}");
        }
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):0.0} MiB";
}
