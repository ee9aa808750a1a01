using System.Globalization;
using Microsoft.Data.Sqlite;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>
/// The schema of the history database the <see cref="SqliteSink"/> writes and <c>taskstats-actors report</c>
/// reads, documented for people in <c>docs/history-schema.md</c>. One flat, typed table per kind of event:
/// <see cref="Exits"/> (one row per task or process record), <see cref="Windows"/> and
/// <see cref="WindowGroups"/> (the aggregator's summaries), <see cref="Losses"/> and <see cref="Restarts"/>, and
/// <see cref="ExitSpans"/>, which finds a time range's exit rows in place of an index on their time.
/// </summary>
/// <remarks>
/// Times are integers, microseconds since the Unix epoch (UTC). Every <c>struct taskstats</c> field but the
/// version 17 <c>*_delay_max_ts</c> timestamps has a column named as the kernel names it; a field the sender's
/// struct version lacks is NULL, never 0. Unsigned 64-bit kernel values are stored as SQLite's signed 64-bit
/// integers (a value of 2^63 or more, which no real counter reaches, would read as negative).
/// The file carries <see cref="ApplicationId"/> and <c>PRAGMA user_version</c> = <see cref="Version"/>.
/// </remarks>
public static class HistorySchema
{
    /// <summary><c>PRAGMA application_id</c> of a history file: "TSHI" (taskstats history).</summary>
    public const int ApplicationId = 0x54534849;

    /// <summary><c>PRAGMA user_version</c>: the schema version this code writes (and reads, besides <see cref="OldestReadable"/>).</summary>
    public const int Version = 2;

    /// <summary>
    /// The oldest schema version this code reads. Version 1 had no <see cref="ExitSpans"/> and an index on
    /// the exits' time; the writer brings such a file to version 2 when it opens it, and keeps that index.
    /// </summary>
    public const int OldestReadable = 1;

    /// <summary>The page size of a new history, bytes.</summary>
    public const int PageSize = 8192;

    /// <summary>Exit records: one row per task (<c>scope = 'pid'</c>) or process (<c>scope = 'tgid'</c>) record.</summary>
    public const string Exits = "exits";

    /// <summary>
    /// Where each commit's exit rows lie: their <c>id</c> range and the range of their <c>time_us</c>. A time
    /// range's rows are those of the spans that overlap it (see <see cref="Sqlite.ExitSpan"/>).
    /// </summary>
    public const string ExitSpans = "exit_spans";

    /// <summary>The index on exits' time that version 1 files have and version 2 files do not.</summary>
    public const string LegacyTimeIndex = "exits_time";

    /// <summary>Aggregation windows: one row per window summary.</summary>
    public const string Windows = "windows";

    /// <summary>The groups of each window summary: per command, per uid and per tgid.</summary>
    public const string WindowGroups = "window_groups";

    /// <summary>Exit messages the kernel dropped (or that could not be decoded), per shard.</summary>
    public const string Losses = "losses";

    /// <summary>Listener socket replacements.</summary>
    public const string Restarts = "listener_restarts";

    /// <summary>
    /// The kernel fields stored in <see cref="Exits"/>, in column order: every field of
    /// <see cref="TaskstatsLayout.Fields"/> except the timestamps of version 17.
    /// </summary>
    public static IReadOnlyList<TaskstatsField> KernelColumns { get; } =
        TaskstatsLayout.Fields.Where(field => field.Kind != TaskstatsFieldKind.Timespec).ToArray();

    /// <summary>The columns of <see cref="Exits"/> before the kernel's fields.</summary>
    public static IReadOnlyList<string> ExitKeyColumns { get; } = ["time_us", "shard", "seq", "scope", "scope_id"];

    /// <summary>The indexes, by name, each serving one kind of question the report asks.</summary>
    /// <remarks>
    /// Every index on <see cref="Exits"/> costs a B-tree insert per record, on the history's hot path, so
    /// <c>exits</c> has none: its rows are in the order they were written, and <see cref="ExitSpans"/> (a row
    /// per commit) turns a time range into a range of <c>id</c>s. An index on the exits' time cost 1.0 µs of the
    /// history's 3.0 µs per record, a per-command one another 2.1 µs (capacity benchmark, 32 commands). Files
    /// made with those and the earlier per-uid, per-tgid and per-shard indexes still read and write as before.
    /// </remarks>
    public static IReadOnlyList<(string Name, string Table, string Columns)> Indexes { get; } =
    [
        ("exit_spans_min_time", ExitSpans, "min_time_us"),
        ("exit_spans_max_time", ExitSpans, "max_time_us"),
        ("windows_start", Windows, "start_us"),
        ("window_groups_window", WindowGroups, "window_id"),
        ("losses_time", Losses, "time_us"),
        ("listener_restarts_time", Restarts, "time_us"),
    ];

    /// <summary>The statements that create the tables and indexes of an empty database.</summary>
    public static IReadOnlyList<string> CreateStatements { get; } = BuildCreateStatements();

    /// <summary>Microseconds since the Unix epoch, as the time columns hold them.</summary>
    public static long ToUnixMicroseconds(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    /// <summary>The inverse of <see cref="ToUnixMicroseconds"/> (UTC).</summary>
    public static DateTimeOffset FromUnixMicroseconds(long microseconds) => DateTimeOffset.UnixEpoch.AddTicks(microseconds * 10);

    /// <summary>
    /// Makes <paramref name="connection"/>'s database a history of this version: creates the schema in an
    /// empty database (with <c>auto_vacuum = INCREMENTAL</c>, which must precede the first table), brings a
    /// version 1 history to version 2 (adds <see cref="ExitSpans"/>, with one span for the rows it holds), or
    /// checks that an existing one is a history of <see cref="Version"/>.
    /// </summary>
    /// <returns>True when the schema was created now.</returns>
    /// <exception cref="HistoryFormatException">The file is another kind of database, or a newer schema.</exception>
    public static bool Ensure(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var (applicationId, version, tables) = Identify(connection);
        if (applicationId == ApplicationId && version == Version)
            return false;
        if (applicationId == 0 && version == 0 && tables == 0)
        {
            // Both can only be chosen before the first table exists (later they need a full VACUUM). 8 KiB
            // pages cost a fifth less CPU per inserted record than the default 4 KiB, for the same file size.
            Execute(connection, $"PRAGMA page_size = {PageSize.ToString(CultureInfo.InvariantCulture)}");
            Execute(connection, "PRAGMA auto_vacuum = INCREMENTAL");
            using var transaction = connection.BeginTransaction();
            foreach (var statement in CreateStatements)
                Execute(connection, statement, transaction);
            Execute(connection, $"PRAGMA application_id = {ApplicationId.ToString(CultureInfo.InvariantCulture)}", transaction);
            Execute(connection, $"PRAGMA user_version = {Version.ToString(CultureInfo.InvariantCulture)}", transaction);
            transaction.Commit();
            return true;
        }
        if (applicationId == ApplicationId && version == 1)
        {
            UpgradeFromVersion1(connection);
            return false;
        }
        throw Mismatch(connection.DataSource, applicationId, version);
    }

    // Version 1 found its time ranges with the exits_time index, which such a file keeps; the new table's
    // one span covers the rows it already has, so every row lies in a span, as version 2 promises.
    private static void UpgradeFromVersion1(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        var spans = Indexes.Where(index => index.Table == ExitSpans).Select(CreateIndex).Prepend(CreateExitSpans);
        foreach (var statement in spans)
            Execute(connection, statement, transaction);
        // Four single min/max queries: each is one B-tree descent (rowid, or the version 1 time index).
        Execute(connection, $"""
            INSERT INTO {ExitSpans} (first_id, last_id, min_time_us, max_time_us)
            SELECT (SELECT min(id) FROM {Exits}), (SELECT max(id) FROM {Exits}), (SELECT min(time_us) FROM {Exits}), (SELECT max(time_us) FROM {Exits})
            WHERE EXISTS (SELECT 1 FROM {Exits})
            """, transaction);
        Execute(connection, $"PRAGMA user_version = {Version.ToString(CultureInfo.InvariantCulture)}", transaction);
        transaction.Commit();
    }

    /// <summary>Checks, without changing anything, that <paramref name="connection"/>'s database is a history this code reads.</summary>
    /// <exception cref="HistoryFormatException">It is not.</exception>
    public static void Verify(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var (applicationId, version, _) = Identify(connection);
        if (applicationId != ApplicationId || version is < OldestReadable or > Version)
            throw Mismatch(connection.DataSource, applicationId, version);
    }

    private static (long ApplicationId, long Version, long Tables) Identify(SqliteConnection connection)
    {
        try
        {
            return (Scalar(connection, "PRAGMA application_id"), Scalar(connection, "PRAGMA user_version"),
                Scalar(connection, "SELECT count(*) FROM sqlite_schema"));
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 26) // SQLITE_NOTADB
        {
            throw new HistoryFormatException($"{connection.DataSource} is not a SQLite database", e);
        }
    }

    private static HistoryFormatException Mismatch(string file, long applicationId, long version) =>
        applicationId != ApplicationId
            ? new HistoryFormatException($"{file} is a SQLite database but not a taskstats history (application_id {applicationId}, expected {ApplicationId})")
            : new HistoryFormatException(version > Version
                ? $"{file} has history schema version {version}, newer than this taskstats-actors knows ({Version}): use a newer taskstats-actors"
                : $"{file} has history schema version {version}, which this taskstats-actors cannot read (it reads versions {OldestReadable} to {Version})");

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    private static string[] BuildCreateStatements()
    {
        var exitColumns = new List<string>
        {
            "id INTEGER PRIMARY KEY",
            "time_us INTEGER NOT NULL",
            "shard INTEGER NOT NULL",
            "seq INTEGER NOT NULL",
            "scope TEXT NOT NULL CHECK (scope IN ('pid', 'tgid'))",
            "scope_id INTEGER NOT NULL",
        };
        exitColumns.AddRange(KernelColumns.Select(field => $"{field.Name} {(field.Kind == TaskstatsFieldKind.Comm ? "TEXT" : "INTEGER")}"));

        var groupColumns = new List<string>
        {
            $"window_id INTEGER NOT NULL REFERENCES {Windows}(id)",
            "grouping TEXT NOT NULL CHECK (grouping IN ('comm', 'uid', 'tgid'))",
            "key TEXT NOT NULL",
            "comm TEXT",
            "exits INTEGER NOT NULL",
            "cpu_time_us INTEGER NOT NULL",
            "read_bytes INTEGER NOT NULL",
            "write_bytes INTEGER NOT NULL",
        };
        foreach (var category in DelayReading.Categories)
        {
            var prefix = DelayReading.KernelPrefix(category);
            groupColumns.Add($"{prefix}_count INTEGER");
            groupColumns.Add($"{prefix}_delay_total INTEGER");
            groupColumns.Add($"{prefix}_delay_max INTEGER");
        }

        var statements = new List<string>
        {
            $"CREATE TABLE {Exits} (\n  {string.Join(",\n  ", exitColumns)}\n)",
            $"CREATE TABLE {Windows} (\n  id INTEGER PRIMARY KEY,\n  start_us INTEGER NOT NULL,\n  end_us INTEGER NOT NULL,\n  exits INTEGER NOT NULL,\n  lost INTEGER NOT NULL\n)",
            $"CREATE TABLE {WindowGroups} (\n  {string.Join(",\n  ", groupColumns)}\n)",
            $"CREATE TABLE {Losses} (\n  id INTEGER PRIMARY KEY,\n  time_us INTEGER NOT NULL,\n  shard INTEGER NOT NULL,\n  cpus TEXT NOT NULL,\n  count INTEGER NOT NULL,\n  source TEXT NOT NULL\n)",
            $"CREATE TABLE {Restarts} (\n  id INTEGER PRIMARY KEY,\n  time_us INTEGER NOT NULL,\n  shard INTEGER NOT NULL,\n  cpus TEXT NOT NULL,\n  receive_buffer INTEGER NOT NULL,\n  reason TEXT NOT NULL\n)",
            CreateExitSpans,
        };
        statements.AddRange(Indexes.Select(CreateIndex));
        return statements.ToArray();
    }

    // Also what the upgrade from version 1 adds.
    private const string CreateExitSpans =
        $"CREATE TABLE {ExitSpans} (\n  id INTEGER PRIMARY KEY,\n  first_id INTEGER NOT NULL,\n  last_id INTEGER NOT NULL,\n  min_time_us INTEGER NOT NULL,\n  max_time_us INTEGER NOT NULL\n)";

    private static string CreateIndex((string Name, string Table, string Columns) index) =>
        $"CREATE INDEX {index.Name} ON {index.Table} ({index.Columns})";
}
