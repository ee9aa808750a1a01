using System.Globalization;
using Microsoft.Data.Sqlite;

namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>What one enforcement of the retention settings removed.</summary>
/// <param name="ExitsDeleted">Exit record rows deleted.</param>
/// <param name="OtherRowsDeleted">Window, window group, loss and restart rows deleted.</param>
/// <param name="BytesBefore">Bytes the data took before (pages in use × page size).</param>
/// <param name="BytesAfter">Bytes it takes after.</param>
public sealed record RetentionResult(long ExitsDeleted, long OtherRowsDeleted, long BytesBefore, long BytesAfter)
{
    /// <summary>Nothing was deleted.</summary>
    public bool Idle => ExitsDeleted == 0 && OtherRowsDeleted == 0;
}

/// <summary>
/// Enforces <c>retention.max-age</c> and <c>retention.max-size</c> on a history, one short step at a time
/// so that the writer can go on between steps. Age: rows older than the limit go. Size: while the pages in
/// use take more than the limit, the oldest exit records go (and the windows older than the oldest exit
/// left), down to 90 % of it; then the freed pages are returned to the file system
/// (<c>PRAGMA incremental_vacuum</c>, then a checkpoint that truncates the write-ahead log).
/// </summary>
internal sealed class HistoryRetention
{
    /// <summary>Rows deleted per step: small enough that a step takes milliseconds.</summary>
    public const int ChunkRows = 20_000;

    private readonly SqliteConnection _connection;
    private readonly TimeSpan _maxAge;
    private readonly long _maxSize;

    // Set while a size trim is under way: it goes on down to 90 % of the limit, not just under it.
    private bool _trimming;

    public HistoryRetention(SqliteConnection connection, TimeSpan maxAge, long maxSize)
    {
        _connection = connection;
        _maxAge = maxAge;
        _maxSize = maxSize;
    }

    /// <summary>Whether any limit is set.</summary>
    public bool Enabled => _maxAge > TimeSpan.Zero || _maxSize > 0;

    /// <summary>Bytes the data takes: pages in use (not on the free list) × page size.</summary>
    public long UsedBytes(SqliteTransaction? transaction = null) =>
        (Scalar("PRAGMA page_count", transaction) - Scalar("PRAGMA freelist_count", transaction)) * Scalar("PRAGMA page_size", transaction);

    /// <summary>
    /// Deletes one chunk of what the limits no longer allow, in its own transaction. Call it until it returns
    /// 0 rows, then <see cref="Shrink"/>. No transaction may be open on the connection.
    /// </summary>
    /// <param name="now">The time the age limit counts back from.</param>
    /// <returns>Exit rows and other rows deleted in this step.</returns>
    public (long Exits, long Others) Step(DateTimeOffset now)
    {
        using var transaction = _connection.BeginTransaction();
        var deleted = _maxAge > TimeSpan.Zero ? StepAge(transaction, now) : (0, 0);
        if (deleted == (0, 0) && _maxSize > 0)
            deleted = StepSize(transaction);
        transaction.Commit();
        if (deleted == (0, 0))
            _trimming = false;
        return deleted;
    }

    /// <summary>One chunk of the exits older than max-age; when none is left, the other rows older than it.</summary>
    private (long Exits, long Others) StepAge(SqliteTransaction transaction, DateTimeOffset now)
    {
        var cutoff = HistorySchema.ToUnixMicroseconds(now - _maxAge);
        var exits = Execute(transaction,
            $"DELETE FROM {HistorySchema.Exits} WHERE id IN (SELECT id FROM {HistorySchema.Exits} WHERE time_us < $cutoff ORDER BY time_us LIMIT {ChunkRows})",
            cutoff);
        return exits > 0 ? (exits, 0) : (0, DeleteOtherBefore(transaction, cutoff, includeEvents: true));
    }

    /// <summary>Over max-size (or trimming down to 90 % of it): one chunk of the oldest exits, and the windows older than the rest.</summary>
    private (long Exits, long Others) StepSize(SqliteTransaction transaction)
    {
        var used = UsedBytes(transaction);
        var target = _maxSize * 9 / 10;
        if (used <= target || (used <= _maxSize && !_trimming))
        {
            _trimming = false;
            return (0, 0);
        }
        _trimming = true;
        var exits = TrimOldestExits(transaction, used - target, used);
        if (exits == 0)
            return (0, DeleteOldestWindows(transaction)); // no exits left: the windows are what takes the space
        // Windows older than every exit kept go with them; losses and restarts (a few rows) stay until max-age.
        var oldest = Scalar($"SELECT min(time_us) FROM {HistorySchema.Exits}", transaction);
        return (exits, oldest > 0 ? DeleteOtherBefore(transaction, oldest, includeEvents: false) : 0);
    }

    /// <summary>Returns the free pages to the file system and truncates the write-ahead log.</summary>
    public void Shrink()
    {
        Execute(null, "PRAGMA incremental_vacuum");
        Execute(null, "PRAGMA wal_checkpoint(TRUNCATE)");
    }

    private long TrimOldestExits(SqliteTransaction transaction, long excessBytes, long usedBytes)
    {
        var first = Scalar($"SELECT min(id) FROM {HistorySchema.Exits}", transaction);
        var last = Scalar($"SELECT max(id) FROM {HistorySchema.Exits}", transaction);
        if (last == 0)
            return 0;
        // Ids are dense but for deletions at the old end: last - first + 1 approximates the row count.
        var rows = Math.Max(1, last - first + 1);
        var bytesPerRow = Math.Max(1.0, (double)usedBytes / rows);
        var chunk = (long)Math.Clamp(Math.Ceiling(excessBytes / bytesPerRow), 256, ChunkRows);
        return Execute(transaction,
            $"DELETE FROM {HistorySchema.Exits} WHERE id IN (SELECT id FROM {HistorySchema.Exits} ORDER BY id LIMIT {chunk.ToString(CultureInfo.InvariantCulture)})");
    }

    private long DeleteOtherBefore(SqliteTransaction transaction, long cutoff, bool includeEvents)
    {
        var deleted = Execute(transaction,
            $"DELETE FROM {HistorySchema.WindowGroups} WHERE window_id IN (SELECT id FROM {HistorySchema.Windows} WHERE end_us < $cutoff)", cutoff);
        deleted += Execute(transaction, $"DELETE FROM {HistorySchema.Windows} WHERE end_us < $cutoff", cutoff);
        if (includeEvents)
        {
            deleted += Execute(transaction, $"DELETE FROM {HistorySchema.Losses} WHERE time_us < $cutoff", cutoff);
            deleted += Execute(transaction, $"DELETE FROM {HistorySchema.Restarts} WHERE time_us < $cutoff", cutoff);
        }
        return deleted;
    }

    private long DeleteOldestWindows(SqliteTransaction transaction)
    {
        const string oldest = $"SELECT id FROM {HistorySchema.Windows} ORDER BY id LIMIT 1000";
        var deleted = Execute(transaction, $"DELETE FROM {HistorySchema.WindowGroups} WHERE window_id IN ({oldest})");
        return deleted + Execute(transaction, $"DELETE FROM {HistorySchema.Windows} WHERE id IN ({oldest})");
    }

    private long Scalar(string sql, SqliteTransaction? transaction = null)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command.ExecuteScalar() is long value ? value : 0;
    }

    private int Execute(SqliteTransaction? transaction, string sql, long? cutoff = null)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        if (cutoff is { } value)
            command.Parameters.AddWithValue("$cutoff", value);
        return command.ExecuteNonQuery();
    }
}
