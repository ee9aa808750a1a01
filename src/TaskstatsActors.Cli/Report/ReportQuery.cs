using System.Globalization;
using Microsoft.Data.Sqlite;
using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Report;

/// <summary>
/// The questions <c>report</c> asks a history (<see cref="HistorySchema"/>), in SQL. Groups sum the task records
/// (<c>scope = 'pid'</c>, one per exiting thread) only: a process record sums the same threads again.
/// </summary>
internal static class ReportQuery
{
    private static readonly string DelayAggregates = string.Join(",\n       ", DelayReading.Categories.Select(category =>
    {
        var prefix = DelayReading.KernelPrefix(category);
        return $"sum({prefix}_count) AS {prefix}_count, sum({prefix}_delay_total) AS {prefix}_delay_total, max({prefix}_delay_max) AS {prefix}_delay_max";
    }));

    /// <summary>The top <paramref name="top"/> groups by <paramref name="sort"/>, and the range's totals.</summary>
    public static GroupReport Groups(SqliteConnection connection, ReportRange range, ReportGrouping by, ReportMetric sort, int top, IProgress<string>? progress = null)
    {
        progress?.Report("counting the exits in range");
        var inRange = ExitsIn(connection, range, out var ids);
        var (exits, groups, metricTotal, first, last) = Totals(connection, range, ids, inRange, by, sort);

        progress?.Report($"summing {exits:N0} exits by {by.Name}");
        var command = by.HasCommand
            ? "coalesce(max(CASE WHEN ac_pid = ac_tgid THEN ac_comm END), min(ac_comm))"
            : "NULL";
        var lost = by.HasLost
            ? $"(SELECT coalesce(sum(count), 0) FROM {HistorySchema.Losses} AS l WHERE l.shard = g.key AND l.time_us >= $from AND l.time_us < $to)"
            : "NULL";
        // "+column" keeps SQLite from walking a whole (column, time) index, which older files may have, to save
        // a sort: the time range narrows the rows first, and groups are few.
        var sql = $"""
            SELECT g.*, {lost} AS lost FROM (
              SELECT +{by.Column} AS key,
                     {command} AS command,
                     count(*) AS exits,
                     coalesce(sum(ac_utime), 0) + coalesce(sum(ac_stime), 0) AS cpu_time_us,
                     {DelayAggregates},
                     coalesce(sum(read_bytes), 0) AS read_bytes,
                     coalesce(sum(write_bytes), 0) AS write_bytes
              FROM {HistorySchema.Exits}
              WHERE scope = 'pid' AND {inRange}
              GROUP BY +{by.Column}
            ) AS g
            ORDER BY {sort.OrderExpression} DESC, exits DESC, key
            LIMIT $top
            """;
        using var query = Command(connection, sql, range, ids);
        query.Parameters.AddWithValue("$top", top);
        var rows = new List<ReportRow>();
        using (var reader = query.ExecuteReader())
        {
            while (reader.Read())
                rows.Add(ReadRow(reader, by));
        }
        return new GroupReport(range, first, last, by, sort, top, exits, groups, metricTotal, rows);
    }

    /// <summary>Every loss in the range, oldest first, and the exits recorded in it.</summary>
    public static LossReport Losses(SqliteConnection connection, ReportRange range, IProgress<string>? progress = null)
    {
        progress?.Report("reading the losses");
        var rows = new List<LossRow>();
        using (var query = Command(connection,
                   $"SELECT time_us, shard, cpus, count, source FROM {HistorySchema.Losses} WHERE time_us >= $from AND time_us < $to ORDER BY time_us, id", range))
        using (var reader = query.ExecuteReader())
        {
            while (reader.Read())
                rows.Add(new LossRow(HistorySchema.FromUnixMicroseconds(reader.GetInt64(0)), reader.GetInt32(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4)));
        }
        progress?.Report("counting the exits in range");
        var inRange = ExitsIn(connection, range, out var ids);
        using var count = Command(connection,
            $"SELECT count(*) FROM {HistorySchema.Exits} WHERE scope = 'pid' AND {inRange}", range, ids);
        return new LossReport(range, rows, Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture));
    }

    /// <summary>The plan SQLite picks for <see cref="Groups"/>' main query over <paramref name="range"/>, for specs that keep it on the range.</summary>
    public static IReadOnlyList<string> Plan(SqliteConnection connection, ReportGrouping by, ReportRange range)
    {
        var inRange = ExitsIn(connection, range, out var ids);
        using var query = Command(connection,
            $"EXPLAIN QUERY PLAN SELECT +{by.Column}, count(*) FROM {HistorySchema.Exits} WHERE scope = 'pid' AND {inRange} GROUP BY +{by.Column}",
            range, ids);
        var plan = new List<string>();
        using var reader = query.ExecuteReader();
        while (reader.Read())
            plan.Add(reader.GetString(3));
        return plan;
    }

    private static (long Exits, long Groups, double MetricTotal, DateTimeOffset? First, DateTimeOffset? Last) Totals(
        SqliteConnection connection, ReportRange range, (long First, long Last)? ids, string inRange, ReportGrouping by, ReportMetric sort)
    {
        var metric = sort.Category is { } category
            ? $"{DelayReading.KernelPrefix(category)}_delay_total"
            : sort == ReportMetric.CpuTime ? "coalesce(ac_utime, 0) + coalesce(ac_stime, 0)" : "coalesce(read_bytes, 0) + coalesce(write_bytes, 0)";
        using var query = Command(connection, $"""
            SELECT count(*), count(DISTINCT {by.Column}), total({metric}), min(time_us), max(time_us)
            FROM {HistorySchema.Exits}
            WHERE scope = 'pid' AND {inRange}
            """, range, ids);
        using var reader = query.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetDouble(2),
            reader.IsDBNull(3) ? null : HistorySchema.FromUnixMicroseconds(reader.GetInt64(3)),
            reader.IsDBNull(4) ? null : HistorySchema.FromUnixMicroseconds(reader.GetInt64(4)));
    }

    private static ReportRow ReadRow(SqliteDataReader reader, ReportGrouping by)
    {
        var delays = new Dictionary<DelayCategory, DelayTotals?>();
        foreach (var category in DelayReading.Categories)
        {
            var prefix = DelayReading.KernelPrefix(category);
            var count = Int64(reader, $"{prefix}_count");
            var total = Int64(reader, $"{prefix}_delay_total");
            delays[category] = count is null && total is null
                ? null
                : new DelayTotals(count ?? 0, total ?? 0, Int64(reader, $"{prefix}_delay_max"));
        }
        var keyOrdinal = reader.GetOrdinal("key");
        string? key = reader.IsDBNull(keyOrdinal)
            ? null
            : by.IsNumeric ? reader.GetInt64(keyOrdinal).ToString(CultureInfo.InvariantCulture) : reader.GetString(keyOrdinal);
        var commandOrdinal = reader.GetOrdinal("command");
        return new ReportRow(
            key,
            reader.IsDBNull(commandOrdinal) ? null : reader.GetString(commandOrdinal),
            reader.GetInt64(reader.GetOrdinal("exits")),
            reader.GetInt64(reader.GetOrdinal("cpu_time_us")),
            delays,
            reader.GetInt64(reader.GetOrdinal("read_bytes")),
            reader.GetInt64(reader.GetOrdinal("write_bytes")),
            Int64(reader, "lost"));
    }

    private static long? Int64(SqliteDataReader reader, string column)
    {
        var ordinal = reader.GetOrdinal(column);
        return reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);
    }

    /// <summary>
    /// The condition that picks the exits received in <paramref name="range"/>: their time, and, in a history
    /// with spans, the ids that hold that time (<see cref="ExitSpan"/>), so that SQLite reads just those rows.
    /// </summary>
    private static string ExitsIn(SqliteConnection connection, ReportRange range, out (long First, long Last)? ids)
    {
        ids = ExitSpan.IdRange(connection, FromUs(range), ToUs(range));
        return ids is null ? "time_us >= $from AND time_us < $to" : "id BETWEEN $first AND $last AND time_us >= $from AND time_us < $to";
    }

    private static long FromUs(ReportRange range) => range.From is { } from ? HistorySchema.ToUnixMicroseconds(from) : long.MinValue;

    private static long ToUs(ReportRange range) => range.To is { } to ? HistorySchema.ToUnixMicroseconds(to) : long.MaxValue;

    private static SqliteCommand Command(SqliteConnection connection, string sql, ReportRange range, (long First, long Last)? ids = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        // The history is read while the collector writes: its write-ahead log lets both go on.
        command.CommandTimeout = 0;
        command.Parameters.AddWithValue("$from", FromUs(range));
        command.Parameters.AddWithValue("$to", ToUs(range));
        if (ids is var (first, last))
        {
            command.Parameters.AddWithValue("$first", first);
            command.Parameters.AddWithValue("$last", last);
        }
        return command;
    }
}
