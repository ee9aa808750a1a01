using Microsoft.Data.Sqlite;

namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>
/// Folds the write-ahead log into the database from a connection and a thread of its own, so that the writer
/// never does it: a checkpoint copies megabytes and waits for <c>fsync</c>, which on the sink's thread would
/// stall the stream for tens of milliseconds, long enough for a busy listener's socket to overflow.
/// </summary>
/// <remarks>
/// The writer's connection has <c>wal_autocheckpoint</c> off; this one runs <c>PRAGMA wal_checkpoint(PASSIVE)</c>
/// every interval, which copies what it can without waiting for the writer or for readers (SQLite lets a
/// checkpoint run beside both). The log starts again from its beginning only when a write transaction begins
/// after a checkpoint copied all of it, which a writer that never pauses would starve; so when the log has grown
/// past a limit (<see cref="DefaultLogFramesLimit"/>), <see cref="RestartWanted"/> asks the writer to run one
/// checkpoint itself, between two transactions: it then copies only the frames this one has not (the last commit
/// or two), and its next transaction starts the log over.
/// </remarks>
internal sealed class HistoryCheckpointer : IDisposable
{
    /// <summary>Log frames (pages) past which the writer is asked to finish a checkpoint: 32 MiB of 8 KiB pages.</summary>
    public const int DefaultLogFramesLimit = 4096;

    private readonly object _gate = new();
    private readonly int _logFramesLimit;
    private readonly SqliteConnection _connection;
    private readonly ITimer _timer;
    private readonly Action<string> _log;
    private volatile bool _restartWanted;
    private bool _disposed;
    private bool _failing;

    public HistoryCheckpointer(string path, TimeSpan interval, int logFramesLimit, TimeProvider time, Action<string> log)
    {
        _log = log;
        _logFramesLimit = logFramesLimit;
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
            Cache = SqliteCacheMode.Private,
        }.ToString());
        _connection.Open();
        _timer = time.CreateTimer(_ => Checkpoint(), null, interval, interval);
    }

    /// <summary>
    /// True when the log has grown past the limit: the writer should run a checkpoint between
    /// two transactions (and call <see cref="RestartDone"/>), so that its next transaction restarts the log.
    /// </summary>
    public bool RestartWanted => _restartWanted;

    /// <summary>The writer finished a checkpoint.</summary>
    public void RestartDone() => _restartWanted = false;

    /// <summary>Runs one passive checkpoint now (the timer calls it).</summary>
    public void Checkpoint()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            try
            {
                using var command = _connection.CreateCommand();
                command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                using (var reader = command.ExecuteReader())
                {
                    // One row: busy, frames in the log, frames copied into the database.
                    if (reader.Read() && reader.GetInt64(1) > _logFramesLimit)
                        _restartWanted = true;
                }
                _failing = false;
            }
            catch (SqliteException e)
            {
                // Say it once, not every interval; the writer goes on and the log grows until it works again.
                if (!_failing)
                    _log($"history {_connection.DataSource}: checkpointing the write-ahead log failed: {e.Message}");
                _failing = true;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _timer.Dispose();
            _connection.Dispose();
        }
    }
}
