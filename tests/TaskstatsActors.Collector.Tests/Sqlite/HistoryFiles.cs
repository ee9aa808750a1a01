using Microsoft.Data.Sqlite;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Collector.Tests.Sqlite;

/// <summary>A temporary directory for history files, and ways to build what goes into them and read it back.</summary>
public sealed class HistoryFiles : IDisposable
{
    public static readonly ShardInfo Shard0 = new(0, CpuMask.Single(0));
    public static readonly ShardInfo Shard1 = new(1, CpuMask.Single(1));
    public static readonly DateTimeOffset T0 = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("taskstats-history-specs-").FullName;

    public string PathOf(string name) => Path.Combine(Directory, name);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>Options for a file in this directory that never commit by themselves during a spec, nor trim.</summary>
    public HistoryOptions Options(string name = "history.db") => new()
    {
        Path = PathOf(name),
        FlushInterval = TimeSpan.FromHours(1),
        FlushRecords = 1_000_000,
        MaxAge = TimeSpan.Zero,
        MaxSize = 0,
    };

    /// <summary>A task record with every v16 field set, distinct per pid, then <paramref name="edit"/>.</summary>
    public static TaskstatsRecord Task(uint pid, string comm = "worker", uint uid = 1000, uint? tgid = null, Action<TaskStats>? edit = null)
    {
        var stats = ExitMessageBuilder.Stats(pid, comm, tgid: tgid);
        stats.AcUid = uid;
        edit?.Invoke(stats);
        return new TaskstatsRecord(TaskstatsScope.Pid, pid, stats);
    }

    /// <summary>A batch of single-threaded exits with pids from <paramref name="firstPid"/>, sequence numbers from <paramref name="firstSeq"/>.</summary>
    public static ExitBatch Batch(int count, uint firstPid = 1000, uint firstSeq = 1, ShardInfo? shard = null, DateTimeOffset? at = null, string comm = "worker") =>
        new(shard ?? Shard0,
            Enumerable.Range(0, count).Select(i => new TaskstatsMessage(firstSeq + (uint)i, Task(firstPid + (uint)i, comm), null)).ToList(),
            at ?? T0);

    /// <summary>A read-only connection to a history, as the report opens it.</summary>
    public static SqliteConnection Read(string path) => HistoryDatabase.OpenForReading(path);

    public static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() is long value ? value : 0;
    }

    public static long Count(string path, string table, string where = "1")
    {
        using var connection = Read(path);
        return Scalar(connection, $"SELECT count(*) FROM {table} WHERE {where}");
    }
}
