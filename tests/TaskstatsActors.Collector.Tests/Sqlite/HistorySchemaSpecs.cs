using System.Reflection;
using Microsoft.Data.Sqlite;
using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Tests.Sqlite;

/// <summary>The history's schema: what a new file holds, that it matches its documentation, and which files are refused.</summary>
public sealed class HistorySchemaSpecs : IDisposable
{
    private readonly HistoryFiles _files = new();

    public void Dispose() => _files.Dispose();

    private string NewHistory()
    {
        var options = _files.Options();
        HistoryWriter.Open(options).Dispose();
        return options.Path;
    }

    private static List<string> Strings(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
            values.Add(reader.GetString(0));
        return values;
    }

    private static List<(string Name, string Type)> Columns(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT name, type FROM pragma_table_info('{table}') ORDER BY cid";
        using var reader = command.ExecuteReader();
        var columns = new List<(string, string)>();
        while (reader.Read())
            columns.Add((reader.GetString(0), reader.GetString(1)));
        return columns;
    }

    [Fact]
    public void A_new_history_should_have_the_six_tables_and_no_index_on_exits_but_its_row_ids()
    {
        using var connection = HistoryFiles.Read(NewHistory());

        Assert.Equal(["exit_spans", "exits", "listener_restarts", "losses", "window_groups", "windows"],
            Strings(connection, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"));
        Assert.Equal(
            ["exit_spans_max_time", "exit_spans_min_time", "listener_restarts_time", "losses_time", "window_groups_window", "windows_start"],
            Strings(connection, "SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name"));
        Assert.Equal([("id", "INTEGER"), ("first_id", "INTEGER"), ("last_id", "INTEGER"), ("min_time_us", "INTEGER"), ("max_time_us", "INTEGER")],
            Columns(connection, "exit_spans"));
    }

    [Fact]
    public void Exits_should_have_a_typed_column_per_kernel_field_after_time_shard_seq_and_scope()
    {
        using var connection = HistoryFiles.Read(NewHistory());

        var columns = Columns(connection, "exits");

        Assert.Equal(("id", "INTEGER"), columns[0]);
        Assert.Equal([("time_us", "INTEGER"), ("shard", "INTEGER"), ("seq", "INTEGER"), ("scope", "TEXT"), ("scope_id", "INTEGER")], columns.Skip(1).Take(5));
        var kernel = TaskstatsLayout.Fields.Where(field => field.Kind != TaskstatsFieldKind.Timespec).ToList();
        Assert.Equal(kernel.Select(field => (field.Name, field.Kind == TaskstatsFieldKind.Comm ? "TEXT" : "INTEGER")), columns.Skip(6));
        // Among them everything the issue asks for by name.
        foreach (var name in new[] { "ac_comm", "ac_uid", "ac_tgid", "ac_ppid", "ac_exitcode", "ac_utime", "ac_stime", "read_bytes", "write_bytes",
                     "hiwater_rss", "nvcsw", "nivcsw", "version", "cpu_count", "cpu_delay_total", "cpu_delay_max", "irq_count", "irq_delay_total", "irq_delay_max" })
            Assert.Contains(columns, column => column.Name == name);
    }

    [Fact]
    public void A_new_history_should_use_the_write_ahead_log_and_incremental_vacuum_and_say_what_it_is()
    {
        using var connection = HistoryFiles.Read(NewHistory());

        Assert.Equal("wal", Strings(connection, "PRAGMA journal_mode").Single());
        Assert.Equal(2, HistoryFiles.Scalar(connection, "PRAGMA auto_vacuum")); // INCREMENTAL
        Assert.Equal(HistorySchema.PageSize, HistoryFiles.Scalar(connection, "PRAGMA page_size"));
        Assert.Equal(HistorySchema.ApplicationId, HistoryFiles.Scalar(connection, "PRAGMA application_id"));
        Assert.Equal(HistorySchema.Version, HistoryFiles.Scalar(connection, "PRAGMA user_version"));
    }

    [Fact]
    public void The_schema_document_should_name_every_table_column_and_index()
    {
        var document = File.ReadAllText(TestSupport.RepositoryFiles.PathOf("docs", "history-schema.md"));
        using var connection = HistoryFiles.Read(NewHistory());

        var missing = new List<string>();
        foreach (var table in Strings(connection, "SELECT name FROM sqlite_schema WHERE type IN ('table', 'index')"))
        {
            if (!document.Contains($"`{table}`", StringComparison.Ordinal))
                missing.Add(table);
            if (Strings(connection, $"SELECT type FROM sqlite_schema WHERE name = '{table}'").Single() != "table")
                continue;
            foreach (var (column, _) in Columns(connection, table))
            {
                if (!document.Contains($"`{column}`", StringComparison.Ordinal))
                    missing.Add($"{table}.{column}");
            }
        }
        Assert.Empty(missing);
    }

    [Fact]
    public void Every_stored_field_should_read_back_as_written_and_fields_of_newer_versions_as_null()
    {
        var options = _files.Options();
        var full = HistoryFiles.Task(4242, "full", uid: 7);
        var number = 1UL;
        foreach (var property in typeof(TaskStats).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (property.Name is nameof(TaskStats.Version) or nameof(TaskStats.PayloadLength) || !property.CanWrite)
                continue;
            if (type == typeof(ulong)) property.SetValue(full.Stats, (ulong)1 << 40 | number++);
            else if (type == typeof(uint)) property.SetValue(full.Stats, (uint)(1 << 20 | (int)number++));
            else if (type == typeof(byte)) property.SetValue(full.Stats, (byte)number++);
        }
        full.Stats.CpuDelayTotal = ulong.MaxValue - 1; // stored as a signed 64-bit integer, bits kept
        var old = HistoryFiles.Task(4243, "old");
        old.Stats.Version = 8; // before thrashing, compaction, tgid, wpcopy, irq and the peaks
        old.Stats.ThrashingCount = old.Stats.ThrashingDelayTotal = old.Stats.AcTgid = null;
        old.Stats.CpuDelayMax = null;
        using (var writer = HistoryWriter.Open(options))
            writer.Write(new Events.ExitBatch(HistoryFiles.Shard1, [new TaskstatsMessage(77, full, null), new TaskstatsMessage(78, old, null)], HistoryFiles.T0));

        using var connection = HistoryFiles.Read(options.Path);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM exits ORDER BY id";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(HistorySchema.ToUnixMicroseconds(HistoryFiles.T0), reader.GetInt64(reader.GetOrdinal("time_us")));
        Assert.Equal(1, reader.GetInt64(reader.GetOrdinal("shard")));
        Assert.Equal(77, reader.GetInt64(reader.GetOrdinal("seq")));
        Assert.Equal("pid", reader.GetString(reader.GetOrdinal("scope")));
        Assert.Equal(4242, reader.GetInt64(reader.GetOrdinal("scope_id")));
        foreach (var field in HistorySchema.KernelColumns)
        {
            var property = typeof(TaskStats).GetProperty(string.Concat(field.Name.Split('_').Select(p => char.ToUpperInvariant(p[0]) + p[1..])))!;
            var expected = property.GetValue(full.Stats);
            var ordinal = reader.GetOrdinal(field.Name);
            if (field.Kind == TaskstatsFieldKind.Comm)
                Assert.Equal(expected, reader.GetString(ordinal));
            else
                Assert.True(unchecked((ulong)reader.GetInt64(ordinal)) == Convert.ToUInt64(expected), $"{field.Name}: {reader.GetInt64(ordinal)} != {expected}");
        }
        Assert.True(reader.Read());
        Assert.Equal(8, reader.GetInt64(reader.GetOrdinal("version")));
        Assert.True(reader.IsDBNull(reader.GetOrdinal("thrashing_count")));
        Assert.True(reader.IsDBNull(reader.GetOrdinal("ac_tgid")));
        Assert.True(reader.IsDBNull(reader.GetOrdinal("cpu_delay_max")));
        Assert.Equal(30_000, reader.GetInt64(reader.GetOrdinal("cpu_delay_total")));
    }

    [Fact]
    public void A_file_that_is_not_a_history_should_be_refused_saying_what_it_is()
    {
        var text = _files.PathOf("notes.db");
        File.WriteAllText(text, "this is not a database, just some words that are long enough to fill a header of one hundred bytes or so......");
        var other = _files.PathOf("other.db");
        using (var connection = new SqliteConnection($"Data Source={other};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE t (x)";
            command.ExecuteNonQuery();
        }

        var notDatabase = Assert.Throws<HistoryFormatException>(() => HistoryWriter.Open(_files.Options("notes.db")));
        var notHistory = Assert.Throws<HistoryFormatException>(() => HistoryDatabase.OpenForReading(other));

        Assert.Contains("is not a SQLite database", notDatabase.Message);
        Assert.Contains("not a taskstats history", notHistory.Message);
    }

    [Fact]
    public void A_history_of_a_newer_schema_should_be_refused_asking_for_a_newer_version()
    {
        var path = NewHistory();
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {HistorySchema.Version + 1}";
            command.ExecuteNonQuery();
        }

        var writing = Assert.Throws<HistoryFormatException>(() => HistoryWriter.Open(_files.Options()));
        var reading = Assert.Throws<HistoryFormatException>(() => HistoryDatabase.OpenForReading(path));

        Assert.Contains("newer than this taskstats-actors knows", writing.Message);
        Assert.Equal(writing.Message, reading.Message);
    }
}
