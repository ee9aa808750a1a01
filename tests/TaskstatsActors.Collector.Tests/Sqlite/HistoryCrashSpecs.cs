using Microsoft.Data.Sqlite;
using TaskstatsActors.Collector.Sinks.Sqlite;

namespace TaskstatsActors.Collector.Tests.Sqlite;

/// <summary>
/// What a crash leaves, in-process: the files as they are on disk at one instant, while the writer holds an open
/// transaction (what <c>kill -9</c> leaves: the process's memory is gone, the files stay). The real
/// <c>kill -9</c> of a collector is in the command line's specs (ReportOfKilledCollectorSpecs).
/// </summary>
public sealed class HistoryCrashSpecs : IDisposable
{
    private readonly HistoryFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void The_files_at_any_instant_should_hold_every_committed_batch_and_nothing_of_the_open_one()
    {
        var options = _files.Options() with { FlushRecords = 1000 };
        using var writer = HistoryWriter.Open(options);
        var images = new List<(string Path, long Committed)>();
        var pid = 0u;
        for (var step = 0; step < 12; step++)
        {
            writer.Write(HistoryFiles.Batch(350, firstPid: pid));
            pid += 350;
            images.Add((CopyAsCrashed(options.Path, $"crash-{step}.db"), writer.Figures.RecordsCommitted));
        }

        foreach (var (image, committed) in images)
        {
            using var connection = new SqliteConnection($"Data Source={image};Pooling=False");
            connection.Open();
            Assert.Equal("ok", Query(connection, "PRAGMA integrity_check"));
            Assert.Equal(committed, long.Parse(Query(connection, "SELECT count(*) FROM exits")));
            // Whole batches only: the records present are exactly the first ones written.
            Assert.Equal(committed == 0 ? "" : (committed - 1).ToString(), Query(connection, "SELECT max(ac_pid) FROM exits"));
        }
        Assert.Contains(images, image => image.Committed > 0);
        Assert.Contains(images, image => image.Committed < (images.IndexOf(image) + 1) * 350);
    }

    [Fact]
    public void A_crashed_history_should_open_for_writing_again_and_go_on()
    {
        var options = _files.Options() with { FlushRecords = 100 };
        using (var writer = HistoryWriter.Open(options))
        {
            writer.Write(HistoryFiles.Batch(100)); // committed: it fills a transaction
            writer.Write(HistoryFiles.Batch(50, firstPid: 5000)); // pending when the copy is taken
            CopyAsCrashed(options.Path, "crashed.db");
        }

        using (var writer = HistoryWriter.Open(options with { Path = _files.PathOf("crashed.db") }))
            writer.Write(HistoryFiles.Batch(10, firstPid: 9000));

        Assert.Equal(110, HistoryFiles.Count(_files.PathOf("crashed.db"), HistorySchema.Exits));
    }

    /// <summary>Copies the database and its write-ahead log as they are now (the shared-memory index is rebuilt on open).</summary>
    private string CopyAsCrashed(string path, string name)
    {
        var image = _files.PathOf(name);
        File.Copy(path, image);
        if (File.Exists(path + "-wal"))
            File.Copy(path + "-wal", image + "-wal");
        return image;
    }

    private static string Query(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
    }
}
