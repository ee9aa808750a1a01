using Microsoft.Data.Sqlite;
using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>
/// The prepared <c>INSERT</c>s of everything but exit records: losses, listener restarts, window
/// summaries and exit spans. These come seldom (a window every few seconds, a span per commit), so plain
/// ADO.NET parameters serve.
/// </summary>
internal sealed class HistoryEventInserts : IDisposable
{
    private readonly SqliteCommand _loss;
    private readonly SqliteCommand _restart;
    private readonly SqliteCommand _window;
    private readonly SqliteCommand _group;
    private readonly SqliteCommand _span;
    private readonly SqliteCommand[] _all;

    public HistoryEventInserts(SqliteConnection connection)
    {
        _loss = Prepare(connection, HistorySchema.Losses, "time_us", "shard", "cpus", "count", "source");
        _restart = Prepare(connection, HistorySchema.Restarts, "time_us", "shard", "cpus", "receive_buffer", "reason");
        _window = Prepare(connection, HistorySchema.Windows, "start_us", "end_us", "exits", "lost");
        var groupColumns = new List<string> { "window_id", "grouping", "key", "comm", "exits", "cpu_time_us", "read_bytes", "write_bytes" };
        foreach (var category in DelayReading.Categories)
        {
            var prefix = DelayReading.KernelPrefix(category);
            groupColumns.AddRange([$"{prefix}_count", $"{prefix}_delay_total", $"{prefix}_delay_max"]);
        }
        _group = Prepare(connection, HistorySchema.WindowGroups, groupColumns.ToArray());
        _span = Prepare(connection, HistorySchema.ExitSpans, "first_id", "last_id", "min_time_us", "max_time_us");
        _all = [_loss, _restart, _window, _group, _span];
    }

    /// <summary>Makes every statement run in <paramref name="transaction"/> (ADO.NET insists on being told).</summary>
    public void Enlist(SqliteTransaction? transaction)
    {
        foreach (var command in _all)
            command.Transaction = transaction;
    }

    public void Insert(RecordsLost loss) =>
        Execute(_loss, HistorySchema.ToUnixMicroseconds(loss.Time), loss.Shard.Index, loss.Shard.Cpus.ToString(), loss.Count, SourceName(loss.Source));

    public void Insert(ListenerRestarted restart) =>
        Execute(_restart, HistorySchema.ToUnixMicroseconds(restart.Time), restart.Shard.Index, restart.Shard.Cpus.ToString(), restart.ReceiveBuffer, restart.Reason);

    public void Insert(ExitSpan span) => Execute(_span, span.FirstId, span.LastId, span.MinTimeUs, span.MaxTimeUs);

    /// <summary>
    /// Inserts the window and its groups: <c>comm</c> rows for every command the summary names (the top by
    /// exits and each top-by-delay list, once each), <c>uid</c> and <c>tgid</c> rows for its other lists.
    /// </summary>
    /// <returns>The rows written (the window's and its groups').</returns>
    public int Insert(WindowSummaryData window)
    {
        Execute(_window, HistorySchema.ToUnixMicroseconds(window.Start), HistorySchema.ToUnixMicroseconds(window.End), window.Exits, window.Lost);
        var windowId = SQLitePCL.raw.sqlite3_last_insert_rowid(_window.Connection!.Handle);
        var rows = 1;
        var commands = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in window.ByCommand.Concat(window.TopByDelay.OrderBy(pair => pair.Key).SelectMany(pair => pair.Value)))
        {
            if (commands.Add(group.Key))
                rows += InsertGroup(windowId, "comm", group);
        }
        foreach (var group in window.ByUser)
            rows += InsertGroup(windowId, "uid", group);
        foreach (var group in window.ByProcess)
            rows += InsertGroup(windowId, "tgid", group);
        return rows;
    }

    public void Dispose()
    {
        foreach (var command in _all)
            command.Dispose();
    }

    /// <summary>How a loss source is written in the <c>source</c> column.</summary>
    public static string SourceName(LossSource source) => source switch
    {
        LossSource.SocketDropCounter => "socket-drop-counter",
        LossSource.SequenceGap => "sequence-gap",
        LossSource.Malformed => "malformed",
        _ => source.ToString(),
    };

    private int InsertGroup(long windowId, string grouping, GroupFigures group)
    {
        var values = new object?[8 + 3 * DelayReading.Categories.Count];
        values[0] = windowId;
        values[1] = grouping;
        values[2] = group.Key;
        values[3] = group.Command ?? (grouping == "comm" ? group.Key : null);
        values[4] = group.Exits;
        values[5] = unchecked((long)group.CpuTimeUs);
        values[6] = unchecked((long)group.ReadBytes);
        values[7] = unchecked((long)group.WriteBytes);
        var i = 8;
        foreach (var category in DelayReading.Categories)
        {
            if (group.Delays.TryGetValue(category, out var figures))
            {
                values[i] = unchecked((long)figures.Count);
                values[i + 1] = unchecked((long)figures.TotalNs);
                values[i + 2] = figures.MaxNs is { } max ? unchecked((long)max) : null;
            }
            i += 3;
        }
        Execute(_group, values);
        return 1;
    }

    private static SqliteCommand Prepare(SqliteConnection connection, string table, params string[] columns)
    {
        var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select(column => "$" + column))})";
        foreach (var column in columns)
            command.Parameters.Add(new SqliteParameter("$" + column, null));
        return command;
    }

    private static void Execute(SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        command.ExecuteNonQuery();
    }
}
