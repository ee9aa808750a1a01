using System.Diagnostics;
using Microsoft.Data.Sqlite;
using TaskstatsActors.Collector.Sinks.Sqlite;

namespace TaskstatsActors.Collector.Tests.Sqlite;

/// <summary>
/// A commit that fails because the disk is full: its records are counted as abandoned, nothing of it is in the
/// file, and once there is room again the next events are committed as usual, each once. The disk is a small
/// tmpfs of its own, so mounting it needs root.
/// </summary>
public sealed class HistoryFullDiskSpecs : IDisposable
{
    private readonly string _mount = Directory.CreateTempSubdirectory("taskstats-history-full-").FullName;
    private bool _mounted;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (_mounted)
            Run("umount", _mount);
        Directory.Delete(_mount, recursive: true);
    }

    [SkippableFact]
    public void A_commit_that_finds_the_disk_full_should_count_its_records_abandoned_and_the_next_commit_should_write_only_what_came_after()
    {
        Skip.If(Environment.UserName != "root", "needs root to mount a small tmpfs");
        Mount("size=512k");
        var options = new HistoryOptions
        {
            Path = Path.Combine(_mount, "history.db"),
            FlushInterval = TimeSpan.FromHours(1),
            FlushRecords = 1_000_000,
            MaxAge = TimeSpan.Zero,
            MaxSize = 0,
        };
        var log = new List<string>();
        using var writer = HistoryWriter.Open(options, log: log.Add);

        // Batches small enough to stay in SQLite's page cache until their commit writes them to the log.
        var committed = 0;
        SqliteException? full = null;
        for (var b = 0; b < 100 && full is null; b++)
        {
            writer.Write(HistoryFiles.Batch(200, firstPid: 10_000 + (uint)b * 200));
            try
            {
                writer.Flush();
                committed += 200;
            }
            catch (SqliteException e)
            {
                full = e;
            }
        }
        Assert.NotNull(full);
        Assert.Equal(new HistoryWriterFigures(RecordsCommitted: committed, RecordsPending: 0, Commits: committed / 200, RecordsAbandoned: 200), writer.Figures);
        Assert.Contains(log, line => line.Contains("a commit failed, 200 records are lost"));

        Mount("remount,size=16m");
        writer.Write(HistoryFiles.Batch(7, firstPid: 900_000));
        writer.Flush();

        Assert.Equal(new HistoryWriterFigures(RecordsCommitted: committed + 7, RecordsPending: 0, Commits: committed / 200 + 1, RecordsAbandoned: 200), writer.Figures);
        Assert.Equal(committed + 7, HistoryFiles.Count(options.Path, HistorySchema.Exits));
        Assert.Equal(7, HistoryFiles.Count(options.Path, HistorySchema.Exits, "ac_pid >= 900000"));
        // Each row lies in the span of its commit, once.
        using var connection = HistoryFiles.Read(options.Path);
        Assert.Equal(committed + 7, HistoryFiles.Scalar(connection,
            $"SELECT count(*) FROM {HistorySchema.Exits} e JOIN {HistorySchema.ExitSpans} s ON e.id BETWEEN s.first_id AND s.last_id"));
    }

    private void Mount(string options)
    {
        var (status, error) = Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", _mount);
        // Root in a container may lack CAP_SYS_ADMIN: the only reason to skip, the first mount tells.
        Skip.If(status != 0 && !_mounted, $"cannot mount a tmpfs here: {error.Trim()}");
        Assert.True(status == 0, $"mount -o {options}: {error}");
        _mounted = true;
    }

    private static (int Status, string Error) Run(string command, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, error);
    }
}
