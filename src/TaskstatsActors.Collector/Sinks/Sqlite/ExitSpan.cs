using Microsoft.Data.Sqlite;

namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>
/// The exit rows one commit wrote: ids <see cref="FirstId"/> to <see cref="LastId"/>, received from
/// <see cref="MinTimeUs"/> to <see cref="MaxTimeUs"/>. A row of <see cref="HistorySchema.ExitSpans"/>.
/// </summary>
/// <remarks>
/// Every exit row lies in a span: its id and its time both inside the span's. The rows of a time range are
/// therefore among the ids of the spans that overlap it, and a query that adds those ids to its time condition
/// (<see cref="IdRange"/>) gets exactly the same rows while reading only that part of the table. Rows are
/// written in nearly the order they were received, so the part is hardly wider than the range. Deleting rows
/// keeps every remaining row inside its span; a span may then cover ids and times no row has any more, which
/// only widens a range.
/// </remarks>
/// <param name="FirstId">The smallest <c>exits.id</c>.</param>
/// <param name="LastId">The largest <c>exits.id</c>.</param>
/// <param name="MinTimeUs">The earliest <c>exits.time_us</c>.</param>
/// <param name="MaxTimeUs">The latest <c>exits.time_us</c>.</param>
public readonly record struct ExitSpan(long FirstId, long LastId, long MinTimeUs, long MaxTimeUs)
{
    /// <summary>The span of one row.</summary>
    public static ExitSpan Of(long id, long timeUs) => new(id, id, timeUs, timeUs);

    /// <summary>The smallest span that holds this one and <paramref name="other"/>.</summary>
    public ExitSpan Including(ExitSpan other) => new(
        Math.Min(FirstId, other.FirstId), Math.Max(LastId, other.LastId),
        Math.Min(MinTimeUs, other.MinTimeUs), Math.Max(MaxTimeUs, other.MaxTimeUs));

    /// <summary>
    /// The ids that hold every exit row received in [<paramref name="fromUs"/>, <paramref name="toUs"/>): a
    /// query over that range may add <c>id BETWEEN First AND Last</c> and gets the same rows. Null when the
    /// history finds time ranges through its version 1 index on <c>exits (time_us)</c> instead (or has no
    /// spans): the query is best left as it is.
    /// </summary>
    public static (long First, long Last)? IdRange(SqliteConnection connection, long fromUs, long toUs)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using (var schema = connection.CreateCommand())
        {
            schema.CommandText = $"SELECT (SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '{HistorySchema.ExitSpans}'), " +
                                 $"(SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '{HistorySchema.LegacyTimeIndex}')";
            using var reader = schema.ExecuteReader();
            reader.Read();
            if (reader.GetInt64(0) == 0 || reader.GetInt64(1) > 0)
                return null;
        }
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT min(first_id), max(last_id) FROM {HistorySchema.ExitSpans} WHERE max_time_us >= $from AND min_time_us < $to";
        command.Parameters.AddWithValue("$from", fromUs);
        command.Parameters.AddWithValue("$to", toUs);
        using var spans = command.ExecuteReader();
        spans.Read();
        // No span overlaps: an empty range.
        return spans.IsDBNull(0) ? (1, 0) : (spans.GetInt64(0), spans.GetInt64(1));
    }
}
