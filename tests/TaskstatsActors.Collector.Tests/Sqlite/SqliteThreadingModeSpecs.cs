using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TaskstatsActors.Collector.Sinks.Sqlite;

namespace TaskstatsActors.Collector.Tests.Sqlite;

/// <summary>
/// The history runs SQLite in multi-thread mode (no mutex per connection). The specs of this assembly run in
/// that mode too, as the collector does, so that the concurrent writer, checkpointer and reader specs
/// exercise it.
/// </summary>
public sealed partial class SqliteThreadingModeSpecs : IDisposable
{
    private readonly HistoryFiles _files = new();

    public void Dispose() => _files.Dispose();

#pragma warning disable CA2255 // The mode must be chosen before any spec opens a connection.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void UseTheCollectorsMode() => SqliteThreadingMode.EnsureMultiThread();

    [Fact]
    public void A_history_connection_should_have_no_connection_mutex()
    {
        Assert.True(SqliteThreadingMode.EnsureMultiThread());
        using var connection = HistoryDatabase.OpenForWriting(_files.PathOf("mode.db"));

        Assert.Equal(0, sqlite3_db_mutex(connection.Handle!.DangerousGetHandle()));
    }

    [Fact]
    public void Asking_again_should_keep_the_mode_and_not_fail()
    {
        Assert.True(SqliteThreadingMode.EnsureMultiThread());
        Assert.True(SqliteThreadingMode.EnsureMultiThread());
    }

    // NULL in multi-thread mode; the connection's mutex in serialized mode.
    [LibraryImport("e_sqlite3")]
    private static partial nint sqlite3_db_mutex(nint db);
}
