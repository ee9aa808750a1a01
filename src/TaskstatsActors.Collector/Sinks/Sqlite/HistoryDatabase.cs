using Microsoft.Data.Sqlite;

namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>Opens connections to a history file the way its writer and its readers need them.</summary>
/// <remarks>
/// Connections are never pooled: a closed connection really closes the file, so the last one to close
/// checkpoints the write-ahead log into the database and removes it.
/// </remarks>
public static class HistoryDatabase
{
    static HistoryDatabase() => SqliteThreadingMode.EnsureMultiThread();

    /// <summary>
    /// Opens (creating it and its directory if needed) the history at <paramref name="path"/> for writing:
    /// write-ahead log, the given <c>synchronous</c> level, the schema created or checked.
    /// </summary>
    /// <param name="path">The database file; relative paths start at the working directory.</param>
    /// <param name="synchronousFull">
    /// <c>synchronous = FULL</c> (an fsync per commit: a commit also survives power loss) instead of
    /// <c>NORMAL</c> (a commit survives the collector being killed or crashing, never corrupts the file,
    /// and may be rolled back by a power loss).
    /// </param>
    /// <exception cref="HistoryFormatException">The file is not a history this code writes.</exception>
    public static SqliteConnection OpenForWriting(string path, bool synchronousFull = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var file = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = file,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            Cache = SqliteCacheMode.Private,
        }.ToString());
        try
        {
            connection.Open();
            // Before the schema: an empty file must not get a rollback journal first.
            HistorySchema.Ensure(connection);
            Pragma(connection, "journal_mode = WAL");
            Pragma(connection, synchronousFull ? "synchronous = FULL" : "synchronous = NORMAL");
            // Savepoints keep their undo pages in memory. An 8 MiB page cache held the hot pages of version 1's
            // indexes on exits; 32 MiB cost 12-25 MB more peak memory and no less CPU at full rate. A version 2
            // file appends exits in id order, so only the last pages are hot, and a bigger cache only holds the
            // open transaction (up to flush-records rows, ~4 MB) until its commit. In the native build, 2 MiB
            // against 8: peak RSS at the maximum rate 94.5 -> 90.7 MB, CPU 3.43 -> 3.49 us per record (medians of
            // 6 A/B storms of 20 s, BENCHMARKS.md tenth round).
            Pragma(connection, "temp_store = MEMORY");
            Pragma(connection, "cache_size = -2048");
            // The log is reset after each checkpoint; this caps the size it is left at.
            Pragma(connection, "journal_size_limit = 67108864");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens an existing history read-only and checks that it is one.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="HistoryFormatException">The file is not a history this code reads.</exception>
    public static SqliteConnection OpenForReading(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var file = Path.GetFullPath(path);
        if (!File.Exists(file))
            throw new FileNotFoundException($"no history at {file}", file);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = file,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            Cache = SqliteCacheMode.Private,
        }.ToString());
        try
        {
            connection.Open();
            HistorySchema.Verify(connection);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void Pragma(SqliteConnection connection, string pragma)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + pragma;
        command.ExecuteNonQuery();
    }
}
