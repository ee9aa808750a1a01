using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>
/// The prepared <c>INSERT</c> of one row into <see cref="HistorySchema.Exits"/>, reused for every record.
/// </summary>
/// <remarks>
/// This is the history's hot path: one execution per record, some 85 values each. The values are bound
/// by calling SQLite's <c>sqlite3_bind_*</c> in the same native library SQLitePCLRaw loaded, directly and
/// without a GC transition. Through SQLitePCLRaw's API each of those calls also takes and releases the
/// statement's SafeHandle; that was a third of the sink's CPU per record. Preparing, stepping and errors
/// still go through SQLitePCLRaw. It runs inside whatever transaction is open on the connection.
/// </remarks>
internal sealed unsafe partial class ExitRecordInsert : IDisposable
{
    private const int KeyColumns = 5;
    private const string NativeLibrary = "e_sqlite3";
    // SQLITE_TRANSIENT: SQLite copies the bytes before the bind returns.
    private static readonly nint Transient = -1;

    private static readonly TaskstatsField[] Fields = [.. HistorySchema.KernelColumns];

    private readonly sqlite3 _db;
    private sqlite3_stmt? _statement;

    public ExitRecordInsert(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
        var columns = HistorySchema.ExitKeyColumns.Concat(Fields.Select(field => field.Name)).ToArray();
        var sql = $"INSERT INTO {HistorySchema.Exits} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "?" + (i + 1)))})";
        Check(raw.sqlite3_prepare_v2(_db, sql, out var statement));
        _statement = statement;
    }

    /// <summary>Inserts one record.</summary>
    /// <param name="timeUs">When it was received, microseconds since the Unix epoch.</param>
    /// <param name="shard">The shard that received it.</param>
    /// <param name="sequence">The message's <c>nlmsg_seq</c>.</param>
    /// <param name="record">The record.</param>
    public void Insert(long timeUs, int shard, uint sequence, in TaskstatsRecord record)
    {
        var statement = _statement ?? throw new ObjectDisposedException(nameof(ExitRecordInsert));
        var held = false;
        try
        {
            statement.DangerousAddRef(ref held);
            var handle = statement.DangerousGetHandle();
            Check(bind_int64(handle, 1, timeUs));
            Check(bind_int64(handle, 2, shard));
            Check(bind_int64(handle, 3, sequence));
            Check(BindText(handle, 4, record.Scope == TaskstatsScope.Pid ? "pid"u8 : "tgid"u8));
            Check(bind_int64(handle, 5, record.Id));
            var stats = record.Stats;
            for (var i = 0; i < Fields.Length; i++)
            {
                var index = KeyColumns + 1 + i;
                var field = Fields[i];
                if (!stats.Has(field))
                    Check(bind_null(handle, index));
                else if (field.Kind == TaskstatsFieldKind.Comm)
                    Check(BindText(handle, index, stats.GetText(field)!));
                else
                    // Unsigned 64-bit values keep their bits in SQLite's signed integer.
                    Check(bind_int64(handle, index, unchecked((long)stats.ReadNumber(field))));
            }
            var step = raw.sqlite3_step(statement);
            if (step != raw.SQLITE_DONE)
                Check(step);
        }
        finally
        {
            raw.sqlite3_reset(statement);
            if (held)
                statement.DangerousRelease();
        }
    }

    private static int BindText(nint statement, int index, string text)
    {
        // ac_comm is at most 32 bytes in the kernel; longer (test) strings take the slow road.
        Span<byte> utf8 = stackalloc byte[64];
        return Encoding.UTF8.TryGetBytes(text, utf8, out var length)
            ? BindText(statement, index, utf8[..length])
            : BindText(statement, index, Encoding.UTF8.GetBytes(text));
    }

    private static int BindText(nint statement, int index, ReadOnlySpan<byte> utf8)
    {
        fixed (byte* bytes = utf8)
            return bind_text(statement, index, bytes, utf8.Length, Transient);
    }

    public void Dispose()
    {
        _statement?.Dispose();
        _statement = null;
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
            SqliteException.ThrowExceptionForRC(rc, _db);
    }

    // Binding only copies a value into the statement: short, no callbacks, no locks held for long.
    [LibraryImport(NativeLibrary, EntryPoint = "sqlite3_bind_int64")]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int bind_int64(nint statement, int index, long value);

    [LibraryImport(NativeLibrary, EntryPoint = "sqlite3_bind_null")]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int bind_null(nint statement, int index);

    [LibraryImport(NativeLibrary, EntryPoint = "sqlite3_bind_text")]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int bind_text(nint statement, int index, byte* text, int length, nint destructor);
}
