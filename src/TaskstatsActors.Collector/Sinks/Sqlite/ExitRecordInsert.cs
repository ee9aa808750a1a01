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
/// <para>
/// SQLite keeps a statement's bindings across <c>sqlite3_reset</c> (and across the re-prepare a schema change
/// causes), so a value equal to the one bound for the previous record is not bound again. Most of a record's
/// fields are zero, or the same as the record before (time and shard within a batch, comm and ids within a
/// process), so this skips about half of the binds.
/// </para>
/// </remarks>
internal sealed unsafe partial class ExitRecordInsert : IDisposable
{
    private const int KeyColumns = 5;
    private const string NativeLibrary = "e_sqlite3";
    // SQLITE_TRANSIENT: SQLite copies the bytes before the bind returns.
    private static readonly nint Transient = -1;

    private static readonly TaskstatsField[] Fields = [.. HistorySchema.KernelColumns];
    // The kernel columns but ac_comm, read from each record in one go, and the parameter each is bound to.
    private static readonly TaskstatsNumberReader Numbers = new(Fields.Where(field => field.Kind != TaskstatsFieldKind.Comm));
    private static readonly int[] NumberParameters = Numbers.Fields.Select(field => KeyColumns + 1 + Array.IndexOf(Fields, field)).ToArray();
    private static readonly TaskstatsField Comm = Fields.Single(field => field.Kind == TaskstatsFieldKind.Comm);
    private static readonly int CommParameter = KeyColumns + 1 + Array.IndexOf(Fields, Comm);

    private readonly sqlite3 _db;
    private sqlite3_stmt? _statement;
    // What each parameter (1-based, [0] unused) holds now, so that an unchanged value is not bound again:
    // _held says whether it is unknown (nothing bound yet, or a bind failed), NULL or the number in _bound.
    // The two text parameters, scope and comm, keep their values of their own. Null means unknown.
    private readonly Held[] _held = new Held[KeyColumns + Fields.Length + 1];
    private readonly long[] _bound = new long[KeyColumns + Fields.Length + 1];
    // The record being inserted, as Numbers reads it.
    private readonly ulong[] _values = new ulong[Numbers.Fields.Count];
    private readonly bool[] _present = new bool[Numbers.Fields.Count];
    private TaskstatsScope? _boundScope;
    private string? _boundComm;

    public ExitRecordInsert(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
        var columns = HistorySchema.ExitKeyColumns.Concat(Fields.Select(field => field.Name)).ToArray();
        var sql = $"INSERT INTO {HistorySchema.Exits} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "?" + (i + 1)))})";
        Check(raw.sqlite3_prepare_v2(_db, sql, out var statement));
        _statement = statement;
    }

    /// <summary>Inserts one record; returns its row's <c>id</c>.</summary>
    /// <param name="timeUs">When it was received, microseconds since the Unix epoch.</param>
    /// <param name="shard">The shard that received it.</param>
    /// <param name="sequence">The message's <c>nlmsg_seq</c>.</param>
    /// <param name="record">The record.</param>
    public long Insert(long timeUs, int shard, uint sequence, in TaskstatsRecord record)
    {
        var statement = _statement ?? throw new ObjectDisposedException(nameof(ExitRecordInsert));
        var held = false;
        try
        {
            statement.DangerousAddRef(ref held);
            var handle = statement.DangerousGetHandle();
            BindNumber(handle, 1, timeUs);
            BindNumber(handle, 2, shard);
            BindNumber(handle, 3, sequence);
            if (_boundScope != record.Scope)
            {
                _boundScope = null;
                Check(BindText(handle, 4, record.Scope == TaskstatsScope.Pid ? "pid"u8 : "tgid"u8));
                _boundScope = record.Scope;
            }
            BindNumber(handle, 5, record.Id);
            var stats = record.Stats;
            BindComm(handle, CommParameter, stats.GetText(Comm));
            Numbers.Read(stats, _values, _present);
            var values = _values;
            var present = _present;
            var parameters = NumberParameters;
            for (var i = 0; i < parameters.Length; i++)
            {
                if (present[i])
                    // Unsigned 64-bit values keep their bits in SQLite's signed integer.
                    BindNumber(handle, parameters[i], unchecked((long)values[i]));
                else
                    BindNull(handle, parameters[i]);
            }
            var step = raw.sqlite3_step(statement);
            if (step != raw.SQLITE_DONE)
                Check(step);
            // The connection is this writer's alone, so no other insert comes in between.
            return last_insert_rowid(_db.DangerousGetHandle());
        }
        finally
        {
            raw.sqlite3_reset(statement);
            if (held)
                statement.DangerousRelease();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BindNumber(nint statement, int index, long value)
    {
        if (_held[index] == Held.Number && _bound[index] == value)
            return;
        _held[index] = Held.Unknown;
        Check(bind_int64(statement, index, value));
        _bound[index] = value;
        _held[index] = Held.Number;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BindNull(nint statement, int index)
    {
        if (_held[index] == Held.Null)
            return;
        _held[index] = Held.Unknown;
        Check(bind_null(statement, index));
        _held[index] = Held.Null;
    }

    private void BindComm(nint statement, int index, string? comm)
    {
        if (comm is null)
        {
            _boundComm = null;
            BindNull(statement, index);
            return;
        }
        if (string.Equals(comm, _boundComm, StringComparison.Ordinal))
            return;
        _boundComm = null;
        // Text is neither of the states _held tracks, so a NULL that follows is bound again.
        _held[index] = Held.Unknown;
        Check(BindText(statement, index, comm));
        _boundComm = comm;
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

    private enum Held : byte { Unknown, Null, Number }

    // Binding only copies a value into the statement: short, no callbacks, no locks held for long.
    [LibraryImport(NativeLibrary, EntryPoint = "sqlite3_bind_int64")]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int bind_int64(nint statement, int index, long value);

    [LibraryImport(NativeLibrary, EntryPoint = "sqlite3_last_insert_rowid")]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial long last_insert_rowid(nint db);

    [LibraryImport(NativeLibrary, EntryPoint = "sqlite3_bind_null")]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int bind_null(nint statement, int index);

    [LibraryImport(NativeLibrary, EntryPoint = "sqlite3_bind_text")]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int bind_text(nint statement, int index, byte* text, int length, nint destructor);
}
