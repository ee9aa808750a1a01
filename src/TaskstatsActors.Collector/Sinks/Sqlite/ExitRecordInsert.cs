using Microsoft.Data.Sqlite;
using SQLitePCL;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>
/// The prepared <c>INSERT</c> of one row into <see cref="HistorySchema.Exits"/>, reused for every record.
/// </summary>
/// <remarks>
/// This is the history's hot path (one execution per record, some 80 values each), so it binds through
/// SQLite's own API rather than ADO.NET parameters: no boxing, no allocation per value. It runs inside
/// whatever transaction is open on the connection.
/// </remarks>
internal sealed class ExitRecordInsert : IDisposable
{
    private const int KeyColumns = 5;

    private static readonly TaskStatsColumn[] Fields = TaskStatsColumns.All.ToArray();

    private readonly sqlite3 _db;
    private sqlite3_stmt? _statement;

    public ExitRecordInsert(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
        var columns = HistorySchema.ExitKeyColumns.Concat(Fields.Select(field => field.Name)).ToArray();
        var sql = $"INSERT INTO {HistorySchema.Exits} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "?" + (i + 1)))})";
        Check(raw.sqlite3_prepare_v2(_db, sql, out var statement));
        _statement = statement;
    }

    /// <summary>Inserts one record.</summary>
    /// <param name="timeUs">When it was received, microseconds since the Unix epoch.</param>
    /// <param name="shard">The shard that received it.</param>
    /// <param name="sequence">The message's <c>nlmsg_seq</c>.</param>
    /// <param name="record">The record.</param>
    public void Insert(long timeUs, int shard, uint sequence, in TaskstatsRecord record)
    {
        var statement = _statement ?? throw new ObjectDisposedException(nameof(ExitRecordInsert));
        try
        {
            Check(raw.sqlite3_bind_int64(statement, 1, timeUs));
            Check(raw.sqlite3_bind_int64(statement, 2, shard));
            Check(raw.sqlite3_bind_int64(statement, 3, sequence));
            Check(raw.sqlite3_bind_text(statement, 4, record.Scope == TaskstatsScope.Pid ? "pid"u8 : "tgid"u8));
            Check(raw.sqlite3_bind_int64(statement, 5, record.Id));
            var stats = record.Stats;
            for (var i = 0; i < Fields.Length; i++)
            {
                var index = KeyColumns + 1 + i;
                var field = Fields[i];
                if (field.IsText)
                {
                    Check(field.Text(stats) is { } text
                        ? raw.sqlite3_bind_text(statement, index, text)
                        : raw.sqlite3_bind_null(statement, index));
                }
                else
                {
                    // Unsigned 64-bit values keep their bits in SQLite's signed integer.
                    Check(field.Number(stats) is { } number
                        ? raw.sqlite3_bind_int64(statement, index, unchecked((long)number))
                        : raw.sqlite3_bind_null(statement, index));
                }
            }
            var step = raw.sqlite3_step(statement);
            if (step != raw.SQLITE_DONE)
                Check(step);
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    public void Dispose()
    {
        _statement?.Dispose();
        _statement = null;
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
            SqliteException.ThrowExceptionForRC(rc, _db);
    }
}
