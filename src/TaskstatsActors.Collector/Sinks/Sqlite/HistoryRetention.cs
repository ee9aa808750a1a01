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
    // A version 1 file's index on exits (time_us) finds old rows by itself; other files find them through their spans.
    private readonly bool _timeIndex;

    // Set while a size trim is under way: it goes on down to 90 % of the limit, not just under it.
    private bool _trimming;

    public HistoryRetention(SqliteConnection connection, TimeSpan maxAge, long maxSize)
    {
        _connection = connection;
        _maxAge = maxAge;
        _maxSize = maxSize;
        _timeIndex = Scalar($"SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '{HistorySchema.LegacyTimeIndex}'") > 0;
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
        long exits;
        if (_timeIndex)
        {
            exits = Execute(transaction,
                $"DELETE FROM {HistorySchema.Exits} WHERE id IN (SELECT id FROM {HistorySchema.Exits} WHERE time_us < $cutoff ORDER BY time_us LIMIT {ChunkRows})",
                cutoff);
            DropEmptiedSpans(transaction);
        }
        else
            exits = DeleteOlderInSpans(transaction, cutoff);
        return exits > 0 ? (exits, 0) : (0, DeleteOtherBefore(transaction, cutoff, includeEvents: true));
    }

    /// <summary>
    /// Deletes up to a chunk of the exits older than <paramref name="cutoff"/>, from the span that reaches
    /// furthest back. A span left with no such row is narrowed to the rows it still holds (or dropped when it
    /// holds none), so it is not picked again.
    /// </summary>
    private long DeleteOlderInSpans(SqliteTransaction transaction, long cutoff)
    {
        while (true)
        {
            var span = OldestSpan(transaction, cutoff);
            if (span is not var (spanId, first, last))
                return 0;
            var deleted = Execute(transaction,
                $"DELETE FROM {HistorySchema.Exits} WHERE id IN (SELECT id FROM {HistorySchema.Exits} WHERE id BETWEEN {first} AND {last} AND time_us < $cutoff LIMIT {ChunkRows})",
                cutoff);
            if (deleted == ChunkRows)
                return deleted;
            NarrowSpan(transaction, spanId, first, last);
            if (deleted > 0)
                return deleted;
        }
    }

    /// <summary>Narrows a span to the exits it still holds, or drops it when it holds none.</summary>
    private void NarrowSpan(SqliteTransaction transaction, long spanId, long first, long last)
    {
        Execute(transaction, $"DELETE FROM {HistorySchema.ExitSpans} WHERE id = {spanId} AND NOT EXISTS (SELECT 1 FROM {HistorySchema.Exits} WHERE id BETWEEN {first} AND {last})");
        // Matches nothing once the span is dropped.
        Execute(transaction, $"""
            UPDATE {HistorySchema.ExitSpans} SET (first_id, last_id, min_time_us, max_time_us) =
              (SELECT min(id), max(id), min(time_us), max(time_us) FROM {HistorySchema.Exits} WHERE id BETWEEN {first} AND {last})
            WHERE id = {spanId}
            """);
    }

    private (long Id, long First, long Last)? OldestSpan(SqliteTransaction transaction, long cutoff)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT id, first_id, last_id FROM {HistorySchema.ExitSpans} WHERE min_time_us < $cutoff ORDER BY min_time_us LIMIT 1";
        command.Transaction = transaction;
        command.Parameters.AddWithValue("$cutoff", cutoff);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)) : null;
    }

    /// <summary>
    /// After the oldest exits went: drops the spans below the oldest exit left (all of them when none is left)
    /// and, with <paramref name="tighten"/>, narrows the first span kept to the exits it still holds, so that
    /// its time is the oldest exit's.
    /// </summary>
    /// <remarks>Spans are read in the order they were written and only as far as the first one kept.</remarks>
    private void DropEmptiedSpans(SqliteTransaction transaction, bool tighten = false)
    {
        var oldestExit = Scalar($"SELECT coalesce(min(id), 0) FROM {HistorySchema.Exits}", transaction);
        var emptied = new List<long>();
        (long Id, long First, long Last)? kept = null;
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = $"SELECT id, first_id, last_id FROM {HistorySchema.ExitSpans} ORDER BY id";
            command.Transaction = transaction;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if (oldestExit != 0 && reader.GetInt64(2) >= oldestExit)
                {
                    kept = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
                    break;
                }
                emptied.Add(reader.GetInt64(0));
            }
        }
        foreach (var span in emptied)
            Execute(transaction, $"DELETE FROM {HistorySchema.ExitSpans} WHERE id = {span}");
        if (tighten && kept is var (spanId, first, last) && first < oldestExit)
            NarrowSpan(transaction, spanId, first, last);
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
        DropEmptiedSpans(transaction, tighten: !_timeIndex);
        // Windows older than every exit kept go with them; losses and restarts (a few rows) stay until max-age.
        // Without the time index the oldest span's time stands in: never later than the oldest exit's, so no
        // window of a kept exit goes.
        var oldest = Scalar(_timeIndex
            ? $"SELECT min(time_us) FROM {HistorySchema.Exits}"
            : $"SELECT min(min_time_us) FROM {HistorySchema.ExitSpans}", transaction);
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
