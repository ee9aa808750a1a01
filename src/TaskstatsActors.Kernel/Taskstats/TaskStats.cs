using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using F = TaskstatsActors.Kernel.Taskstats.TaskstatsFields;

namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>
/// One <c>struct taskstats</c> (include/uapi/linux/taskstats.h) as the kernel sent it. Property names
/// follow the kernel's field names. Only <see cref="Version"/> and the eight delay-accounting fields of
/// version 1 are in every version; every later field is nullable and is <c>null</c> when the sender's
/// struct version does not have it (never 0). Delay fields stay 0 unless delay accounting is on
/// (<c>kernel.task_delayacct</c>), except the CPU ones, which come from scheduler statistics.
/// </summary>
/// <remarks>
/// <see cref="TaskstatsLayout"/> maps each property to its kernel name, version and offset;
/// <see cref="TaskstatsDecoder"/>, <see cref="TaskstatsEncoder"/> and <see cref="TaskstatsJson"/> use it.
/// The setters are public so tests and fake kernels can build records.
/// Inside, a record is compact: the field values in one block laid out as the newest struct version lays
/// them out (so decoding version 16 or 17 is a single copy of the payload), a bit per field saying whether
/// the record has it, and <c>ac_comm</c> as a string. Each property reads and writes its field through the
/// field's entry in the table (<c>TaskstatsFields</c>), which is the only place field names, types and versions are written.
/// </remarks>
public sealed class TaskStats
{
    /// <summary>Bytes kept for the field values: <c>sizeof(struct taskstats)</c> of the newest version (checked at start).</summary>
    internal const int StorageBytes = 688;

    // Each field's value at its TaskstatsField.StorageOffset, in the kernel's byte order (the host's);
    // _present: the fields the record has.
    private Storage _storage;
    private FieldSet _present;
    // ac_comm is kept as text; its bytes in _storage (copied along when decoding) are not read.
    private string? _comm;

    /// <summary>An empty record: the version 1 fields are 0, every later field is absent.</summary>
    public TaskStats() => _present = F.InEveryVersion;

    /// <summary>Decodes a payload whose length the caller has checked against <paramref name="layout"/>'s size.</summary>
    internal TaskStats(TaskstatsLayout layout, ReadOnlySpan<byte> payload, string? comm)
    {
        var storage = MemoryMarshal.AsBytes((Span<ulong>)_storage);
        foreach (var run in layout.Runs)
            payload.Slice(run.From, run.Length).CopyTo(storage[run.To..]);
        _present = layout.Present;
        _comm = comm;
        PayloadLength = payload.Length;
    }

    /// <summary>Number of bytes of the payload this record was decoded from (0 for a record built in code).</summary>
    public int PayloadLength { get; set; }

    // ---- version 1 ----

    /// <summary><c>version</c>: the struct version the kernel filled in (<c>TASKSTATS_VERSION</c>).</summary>
    public ushort Version { get => Read<ushort>(F.Version); set => Write(F.Version, value); }

    /// <summary><c>cpu_count</c>: number of CPU run-queue delays recorded.</summary>
    public ulong CpuCount { get => Read<ulong>(F.CpuCount); set => Write(F.CpuCount, value); }

    /// <summary><c>cpu_delay_total</c>: time spent runnable but waiting for a CPU, in ns (wraps on overflow).</summary>
    public ulong CpuDelayTotal { get => Read<ulong>(F.CpuDelayTotal); set => Write(F.CpuDelayTotal, value); }

    /// <summary><c>blkio_count</c>: number of synchronous block I/O delays recorded.</summary>
    public ulong BlkioCount { get => Read<ulong>(F.BlkioCount); set => Write(F.BlkioCount, value); }

    /// <summary><c>blkio_delay_total</c>: time waiting for synchronous block I/O, in ns.</summary>
    public ulong BlkioDelayTotal { get => Read<ulong>(F.BlkioDelayTotal); set => Write(F.BlkioDelayTotal, value); }

    /// <summary><c>swapin_count</c>: number of swap-in page fault delays recorded.</summary>
    public ulong SwapinCount { get => Read<ulong>(F.SwapinCount); set => Write(F.SwapinCount, value); }

    /// <summary><c>swapin_delay_total</c>: time waiting for swap-in page faults, in ns.</summary>
    public ulong SwapinDelayTotal { get => Read<ulong>(F.SwapinDelayTotal); set => Write(F.SwapinDelayTotal, value); }

    /// <summary><c>cpu_run_real_total</c>: CPU "wall-clock" running time, in ns.</summary>
    public ulong CpuRunRealTotal { get => Read<ulong>(F.CpuRunRealTotal); set => Write(F.CpuRunRealTotal, value); }

    /// <summary><c>cpu_run_virtual_total</c>: CPU "virtual" running time as the kernel saw it, in ns.</summary>
    public ulong CpuRunVirtualTotal { get => Read<ulong>(F.CpuRunVirtualTotal); set => Write(F.CpuRunVirtualTotal, value); }

    // ---- version 2: basic and extended accounting ----

    /// <summary>
    /// <c>ac_exitcode</c>: the task's exit code as the kernel keeps it, in <c>wait(2)</c> status form
    /// (exit status in bits 8–15, terminating signal in the low 7 bits): <c>exit(7)</c> gives 0x700.
    /// Only set for a thread-group leader.
    /// </summary>
    public uint? AcExitcode { get => Get<uint>(F.AcExitcode); set => Set(F.AcExitcode, value); }

    /// <summary><c>ac_flag</c>: accounting flags (<c>AFORK</c>, <c>ASU</c>, <c>ACOMPAT</c>, <c>ACORE</c>, <c>AXSIG</c>; <c>AGROUP</c> since v12).</summary>
    public byte? AcFlag { get => Get<byte>(F.AcFlag); set => Set(F.AcFlag, value); }

    /// <summary><c>ac_nice</c>: <c>task_nice()</c> stored in a <c>__u8</c> (a negative nice value wraps, e.g. -5 is 251).</summary>
    public byte? AcNice { get => Get<byte>(F.AcNice); set => Set(F.AcNice, value); }

    /// <summary><c>ac_comm</c>: command name, up to the first NUL of the 32-byte field (<c>TS_COMM_LEN</c>).</summary>
    public string? AcComm { get => _comm; set => SetText(F.AcComm, value); }

    /// <summary><c>ac_sched</c>: scheduling policy (<c>task-&gt;policy</c>).</summary>
    public byte? AcSched { get => Get<byte>(F.AcSched); set => Set(F.AcSched, value); }

    /// <summary><c>ac_uid</c>: user id, as seen from the listener's user namespace.</summary>
    public uint? AcUid { get => Get<uint>(F.AcUid); set => Set(F.AcUid, value); }

    /// <summary><c>ac_gid</c>: group id, as seen from the listener's user namespace.</summary>
    public uint? AcGid { get => Get<uint>(F.AcGid); set => Set(F.AcGid, value); }

    /// <summary><c>ac_pid</c>: process (task) id, as seen from the listener's pid namespace.</summary>
    public uint? AcPid { get => Get<uint>(F.AcPid); set => Set(F.AcPid, value); }

    /// <summary><c>ac_ppid</c>: parent process id.</summary>
    public uint? AcPpid { get => Get<uint>(F.AcPpid); set => Set(F.AcPpid, value); }

    /// <summary><c>ac_btime</c>: begin time, in seconds since 1970 (32-bit; see <see cref="AcBtime64"/>).</summary>
    public uint? AcBtime { get => Get<uint>(F.AcBtime); set => Set(F.AcBtime, value); }

    /// <summary><c>ac_etime</c>: elapsed time, in µs.</summary>
    public ulong? AcEtime { get => Get<ulong>(F.AcEtime); set => Set(F.AcEtime, value); }

    /// <summary><c>ac_utime</c>: user CPU time, in µs.</summary>
    public ulong? AcUtime { get => Get<ulong>(F.AcUtime); set => Set(F.AcUtime, value); }

    /// <summary><c>ac_stime</c>: system CPU time, in µs.</summary>
    public ulong? AcStime { get => Get<ulong>(F.AcStime); set => Set(F.AcStime, value); }

    /// <summary><c>ac_minflt</c>: minor page fault count.</summary>
    public ulong? AcMinflt { get => Get<ulong>(F.AcMinflt); set => Set(F.AcMinflt, value); }

    /// <summary><c>ac_majflt</c>: major page fault count.</summary>
    public ulong? AcMajflt { get => Get<ulong>(F.AcMajflt); set => Set(F.AcMajflt, value); }

    /// <summary><c>coremem</c>: accumulated RSS usage, in MB-µs.</summary>
    public ulong? Coremem { get => Get<ulong>(F.Coremem); set => Set(F.Coremem, value); }

    /// <summary><c>virtmem</c>: accumulated virtual memory usage, in MB-µs.</summary>
    public ulong? Virtmem { get => Get<ulong>(F.Virtmem); set => Set(F.Virtmem, value); }

    /// <summary><c>hiwater_rss</c>: high-water mark of RSS, in KB.</summary>
    public ulong? HiwaterRss { get => Get<ulong>(F.HiwaterRss); set => Set(F.HiwaterRss, value); }

    /// <summary><c>hiwater_vm</c>: high-water mark of virtual memory, in KB.</summary>
    public ulong? HiwaterVm { get => Get<ulong>(F.HiwaterVm); set => Set(F.HiwaterVm, value); }

    /// <summary><c>read_char</c>: bytes read through syscalls (the kernel rounds it down to a multiple of 1024).</summary>
    public ulong? ReadChar { get => Get<ulong>(F.ReadChar); set => Set(F.ReadChar, value); }

    /// <summary><c>write_char</c>: bytes written through syscalls (rounded down to a multiple of 1024).</summary>
    public ulong? WriteChar { get => Get<ulong>(F.WriteChar); set => Set(F.WriteChar, value); }

    /// <summary><c>read_syscalls</c>: read syscalls (rounded down to a multiple of 1024).</summary>
    public ulong? ReadSyscalls { get => Get<ulong>(F.ReadSyscalls); set => Set(F.ReadSyscalls, value); }

    /// <summary><c>write_syscalls</c>: write syscalls (rounded down to a multiple of 1024).</summary>
    public ulong? WriteSyscalls { get => Get<ulong>(F.WriteSyscalls); set => Set(F.WriteSyscalls, value); }

    // ---- version 3: storage I/O ----

    /// <summary><c>read_bytes</c>: bytes of storage read I/O.</summary>
    public ulong? ReadBytes { get => Get<ulong>(F.ReadBytes); set => Set(F.ReadBytes, value); }

    /// <summary><c>write_bytes</c>: bytes of storage write I/O.</summary>
    public ulong? WriteBytes { get => Get<ulong>(F.WriteBytes); set => Set(F.WriteBytes, value); }

    /// <summary><c>cancelled_write_bytes</c>: bytes of cancelled write I/O.</summary>
    public ulong? CancelledWriteBytes { get => Get<ulong>(F.CancelledWriteBytes); set => Set(F.CancelledWriteBytes, value); }

    // ---- version 5: context switches ----

    /// <summary><c>nvcsw</c>: voluntary context switches.</summary>
    public ulong? Nvcsw { get => Get<ulong>(F.Nvcsw); set => Set(F.Nvcsw, value); }

    /// <summary><c>nivcsw</c>: involuntary context switches.</summary>
    public ulong? Nivcsw { get => Get<ulong>(F.Nivcsw); set => Set(F.Nivcsw, value); }

    // ---- version 6: scaled time ----

    /// <summary><c>ac_utimescaled</c>: user CPU time scaled by CPU frequency etc., in µs.</summary>
    public ulong? AcUtimescaled { get => Get<ulong>(F.AcUtimescaled); set => Set(F.AcUtimescaled, value); }

    /// <summary><c>ac_stimescaled</c>: system CPU time scaled by CPU frequency etc., in µs.</summary>
    public ulong? AcStimescaled { get => Get<ulong>(F.AcStimescaled); set => Set(F.AcStimescaled, value); }

    /// <summary><c>cpu_scaled_run_real_total</c>: scaled <see cref="CpuRunRealTotal"/>, in ns.</summary>
    public ulong? CpuScaledRunRealTotal { get => Get<ulong>(F.CpuScaledRunRealTotal); set => Set(F.CpuScaledRunRealTotal, value); }

    // ---- version 7: memory reclaim ----

    /// <summary><c>freepages_count</c>: number of memory reclaim delays recorded.</summary>
    public ulong? FreepagesCount { get => Get<ulong>(F.FreepagesCount); set => Set(F.FreepagesCount, value); }

    /// <summary><c>freepages_delay_total</c>: time waiting for memory reclaim, in ns.</summary>
    public ulong? FreepagesDelayTotal { get => Get<ulong>(F.FreepagesDelayTotal); set => Set(F.FreepagesDelayTotal, value); }

    // ---- version 9: thrashing ----

    /// <summary><c>thrashing_count</c>: number of thrashing page delays recorded.</summary>
    public ulong? ThrashingCount { get => Get<ulong>(F.ThrashingCount); set => Set(F.ThrashingCount, value); }

    /// <summary><c>thrashing_delay_total</c>: time waiting on thrashing pages, in ns.</summary>
    public ulong? ThrashingDelayTotal { get => Get<ulong>(F.ThrashingDelayTotal); set => Set(F.ThrashingDelayTotal, value); }

    // ---- version 10 ----

    /// <summary><c>ac_btime64</c>: begin time, in seconds since 1970 (64-bit).</summary>
    public ulong? AcBtime64 { get => Get<ulong>(F.AcBtime64); set => Set(F.AcBtime64, value); }

    // ---- version 11: compaction ----

    /// <summary><c>compact_count</c>: number of memory compaction delays recorded.</summary>
    public ulong? CompactCount { get => Get<ulong>(F.CompactCount); set => Set(F.CompactCount, value); }

    /// <summary><c>compact_delay_total</c>: time waiting for memory compaction, in ns.</summary>
    public ulong? CompactDelayTotal { get => Get<ulong>(F.CompactDelayTotal); set => Set(F.CompactDelayTotal, value); }

    // ---- version 12 ----

    /// <summary><c>ac_tgid</c>: thread group (process) id.</summary>
    public uint? AcTgid { get => Get<uint>(F.AcTgid); set => Set(F.AcTgid, value); }

    /// <summary><c>ac_tgetime</c>: thread group wall time so far, in µs (the whole process's when <c>AGROUP</c> is set).</summary>
    public ulong? AcTgetime { get => Get<ulong>(F.AcTgetime); set => Set(F.AcTgetime, value); }

    /// <summary><c>ac_exe_dev</c>: device id of the program binary (0 for kernel threads).</summary>
    public ulong? AcExeDev { get => Get<ulong>(F.AcExeDev); set => Set(F.AcExeDev, value); }

    /// <summary><c>ac_exe_inode</c>: inode number of the program binary (0 for kernel threads).</summary>
    public ulong? AcExeInode { get => Get<ulong>(F.AcExeInode); set => Set(F.AcExeInode, value); }

    // ---- version 13: write-protect copy ----

    /// <summary><c>wpcopy_count</c>: number of write-protect copy delays recorded.</summary>
    public ulong? WpcopyCount { get => Get<ulong>(F.WpcopyCount); set => Set(F.WpcopyCount, value); }

    /// <summary><c>wpcopy_delay_total</c>: time waiting for write-protect copy, in ns.</summary>
    public ulong? WpcopyDelayTotal { get => Get<ulong>(F.WpcopyDelayTotal); set => Set(F.WpcopyDelayTotal, value); }

    // ---- version 14: IRQ ----

    /// <summary><c>irq_count</c>: number of IRQ/SOFTIRQ delays recorded.</summary>
    public ulong? IrqCount { get => Get<ulong>(F.IrqCount); set => Set(F.IrqCount, value); }

    /// <summary><c>irq_delay_total</c>: time lost to IRQ/SOFTIRQ, in ns.</summary>
    public ulong? IrqDelayTotal { get => Get<ulong>(F.IrqDelayTotal); set => Set(F.IrqDelayTotal, value); }

    // ---- version 15 (mid-struct), version 16 on (at the end): peaks ----

    /// <summary><c>cpu_delay_max</c>: longest single CPU delay, in ns.</summary>
    public ulong? CpuDelayMax { get => Get<ulong>(F.CpuDelayMax); set => Set(F.CpuDelayMax, value); }

    /// <summary><c>cpu_delay_min</c>: shortest single CPU delay, in ns (0 when there was none: check the count).</summary>
    public ulong? CpuDelayMin { get => Get<ulong>(F.CpuDelayMin); set => Set(F.CpuDelayMin, value); }

    /// <summary><c>blkio_delay_max</c>: longest single block I/O delay, in ns.</summary>
    public ulong? BlkioDelayMax { get => Get<ulong>(F.BlkioDelayMax); set => Set(F.BlkioDelayMax, value); }

    /// <summary><c>blkio_delay_min</c>: shortest single block I/O delay, in ns.</summary>
    public ulong? BlkioDelayMin { get => Get<ulong>(F.BlkioDelayMin); set => Set(F.BlkioDelayMin, value); }

    /// <summary><c>swapin_delay_max</c>: longest single swap-in delay, in ns.</summary>
    public ulong? SwapinDelayMax { get => Get<ulong>(F.SwapinDelayMax); set => Set(F.SwapinDelayMax, value); }

    /// <summary><c>swapin_delay_min</c>: shortest single swap-in delay, in ns.</summary>
    public ulong? SwapinDelayMin { get => Get<ulong>(F.SwapinDelayMin); set => Set(F.SwapinDelayMin, value); }

    /// <summary><c>freepages_delay_max</c>: longest single memory reclaim delay, in ns.</summary>
    public ulong? FreepagesDelayMax { get => Get<ulong>(F.FreepagesDelayMax); set => Set(F.FreepagesDelayMax, value); }

    /// <summary><c>freepages_delay_min</c>: shortest single memory reclaim delay, in ns.</summary>
    public ulong? FreepagesDelayMin { get => Get<ulong>(F.FreepagesDelayMin); set => Set(F.FreepagesDelayMin, value); }

    /// <summary><c>thrashing_delay_max</c>: longest single thrashing delay, in ns.</summary>
    public ulong? ThrashingDelayMax { get => Get<ulong>(F.ThrashingDelayMax); set => Set(F.ThrashingDelayMax, value); }

    /// <summary><c>thrashing_delay_min</c>: shortest single thrashing delay, in ns.</summary>
    public ulong? ThrashingDelayMin { get => Get<ulong>(F.ThrashingDelayMin); set => Set(F.ThrashingDelayMin, value); }

    /// <summary><c>compact_delay_max</c>: longest single compaction delay, in ns.</summary>
    public ulong? CompactDelayMax { get => Get<ulong>(F.CompactDelayMax); set => Set(F.CompactDelayMax, value); }

    /// <summary><c>compact_delay_min</c>: shortest single compaction delay, in ns.</summary>
    public ulong? CompactDelayMin { get => Get<ulong>(F.CompactDelayMin); set => Set(F.CompactDelayMin, value); }

    /// <summary><c>wpcopy_delay_max</c>: longest single write-protect copy delay, in ns.</summary>
    public ulong? WpcopyDelayMax { get => Get<ulong>(F.WpcopyDelayMax); set => Set(F.WpcopyDelayMax, value); }

    /// <summary><c>wpcopy_delay_min</c>: shortest single write-protect copy delay, in ns.</summary>
    public ulong? WpcopyDelayMin { get => Get<ulong>(F.WpcopyDelayMin); set => Set(F.WpcopyDelayMin, value); }

    /// <summary><c>irq_delay_max</c>: longest single IRQ delay, in ns.</summary>
    public ulong? IrqDelayMax { get => Get<ulong>(F.IrqDelayMax); set => Set(F.IrqDelayMax, value); }

    /// <summary><c>irq_delay_min</c>: shortest single IRQ delay, in ns.</summary>
    public ulong? IrqDelayMin { get => Get<ulong>(F.IrqDelayMin); set => Set(F.IrqDelayMin, value); }

    // ---- version 17: when each peak happened ----

    /// <summary><c>cpu_delay_max_ts</c>: when the longest CPU delay happened.</summary>
    public KernelTimespec? CpuDelayMaxTs { get => GetTime(F.CpuDelayMaxTs); set => SetTime(F.CpuDelayMaxTs, value); }

    /// <summary><c>blkio_delay_max_ts</c>: when the longest block I/O delay happened.</summary>
    public KernelTimespec? BlkioDelayMaxTs { get => GetTime(F.BlkioDelayMaxTs); set => SetTime(F.BlkioDelayMaxTs, value); }

    /// <summary><c>swapin_delay_max_ts</c>: when the longest swap-in delay happened.</summary>
    public KernelTimespec? SwapinDelayMaxTs { get => GetTime(F.SwapinDelayMaxTs); set => SetTime(F.SwapinDelayMaxTs, value); }

    /// <summary><c>freepages_delay_max_ts</c>: when the longest memory reclaim delay happened.</summary>
    public KernelTimespec? FreepagesDelayMaxTs { get => GetTime(F.FreepagesDelayMaxTs); set => SetTime(F.FreepagesDelayMaxTs, value); }

    /// <summary><c>thrashing_delay_max_ts</c>: when the longest thrashing delay happened.</summary>
    public KernelTimespec? ThrashingDelayMaxTs { get => GetTime(F.ThrashingDelayMaxTs); set => SetTime(F.ThrashingDelayMaxTs, value); }

    /// <summary><c>compact_delay_max_ts</c>: when the longest compaction delay happened.</summary>
    public KernelTimespec? CompactDelayMaxTs { get => GetTime(F.CompactDelayMaxTs); set => SetTime(F.CompactDelayMaxTs, value); }

    /// <summary><c>wpcopy_delay_max_ts</c>: when the longest write-protect copy delay happened.</summary>
    public KernelTimespec? WpcopyDelayMaxTs { get => GetTime(F.WpcopyDelayMaxTs); set => SetTime(F.WpcopyDelayMaxTs, value); }

    /// <summary><c>irq_delay_max_ts</c>: when the longest IRQ delay happened.</summary>
    public KernelTimespec? IrqDelayMaxTs { get => GetTime(F.IrqDelayMaxTs); set => SetTime(F.IrqDelayMaxTs, value); }

    // ---- access by field (the properties above, and code that walks the table) ----

    /// <summary>Whether the record has the field (version 1 fields: always).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Has(TaskstatsField field) => HasIndex(field.Index);

    /// <summary>A number field's value, or null when the record does not have it.</summary>
    internal ulong? GetNumber(TaskstatsField field) => Has(field) ? ReadNumber(field) : null;

    /// <summary>A number field's value, for a caller that knows the record has the field.</summary>
    public ulong ReadNumber(TaskstatsField field) => field.IsNumber
        ? ReadNumberAt(field.StorageOffset, field.Size)
        : throw new ArgumentException($"{field.Name} is not a number field", nameof(field));

    /// <summary>Sets a number field (cut to the field's width) and marks it present.</summary>
    internal void SetNumber(TaskstatsField field, ulong value)
    {
        switch (field.Kind)
        {
            case TaskstatsFieldKind.U8: Write(field, (byte)value); break;
            case TaskstatsFieldKind.U16: Write(field, (ushort)value); break;
            case TaskstatsFieldKind.U32: Write(field, (uint)value); break;
            case TaskstatsFieldKind.U64: Write(field, value); break;
            default: throw new ArgumentException($"{field.Name} is not a number field", nameof(field));
        }
    }

    /// <summary>A timespec field's value, or null when the record does not have it.</summary>
    internal KernelTimespec? GetTime(TaskstatsField field) => Has(field) ? Read<KernelTimespec>(field) : null;

    /// <summary>Sets a timespec field, or makes it absent.</summary>
    internal void SetTime(TaskstatsField field, KernelTimespec? value)
    {
        if (value is { } time)
            Write(field, time);
        else
            Remove(field);
    }

    /// <summary>The text field (<c>ac_comm</c>, the only one).</summary>
    public string? GetText(TaskstatsField field) => Has(field) ? _comm : null;

    /// <summary>Sets the text field (<c>ac_comm</c>), or makes it absent.</summary>
    internal void SetText(TaskstatsField field, string? value)
    {
        _comm = value;
        if (value is null)
            _present.Remove(field.Index);
        else
            _present.Add(field.Index);
    }

    // By a field's index, offset and size: what ReadNumber and Has look up in the field, and what
    // TaskstatsNumberReader has looked up once for all records.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool HasIndex(int fieldIndex) => _present.Contains(fieldIndex);

    // The number field of `size` bytes (1, 2, 4 or 8) at `storageOffset`.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadNumberAt(int storageOffset, int size)
    {
        ref var at = ref Unsafe.Add(ref Unsafe.As<Storage, byte>(ref _storage), storageOffset);
        return size switch
        {
            8 => Unsafe.ReadUnaligned<ulong>(ref at),
            4 => Unsafe.ReadUnaligned<uint>(ref at),
            2 => Unsafe.ReadUnaligned<ushort>(ref at),
            _ => at,
        };
    }

    // The properties' accessors: small, and inlined even into long methods that read many fields.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal T? Get<T>(TaskstatsField field) where T : unmanaged => Has(field) ? Read<T>(field) : null;

    private void Set<T>(TaskstatsField field, T? value) where T : unmanaged
    {
        if (value is { } v)
            Write(field, v);
        else
            Remove(field);
    }

    // Reads and writes go straight to the field's offset, in the host's byte order (the kernel's: little-endian
    // on every host this runs on). Offsets come from the field table, and TaskstatsFields checks at start that
    // every field lies inside the storage, so no access can stray outside it.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private T Read<T>(TaskstatsField field) where T : unmanaged
    {
        Debug.Assert(Unsafe.SizeOf<T>() == field.Size, $"{field.Name} is {field.Size} bytes, read as {typeof(T).Name}");
        return Unsafe.ReadUnaligned<T>(ref At(field));
    }

    private void Write<T>(TaskstatsField field, T value) where T : unmanaged
    {
        Debug.Assert(Unsafe.SizeOf<T>() == field.Size, $"{field.Name} is {field.Size} bytes, written as {typeof(T).Name}");
        Unsafe.WriteUnaligned(ref At(field), value);
        _present.Add(field.Index);
    }

    // An absent field reads as zero bytes too, so a record's storage never holds a value it does not have.
    private void Remove(TaskstatsField field)
    {
        Unsafe.InitBlockUnaligned(ref At(field), 0, (uint)field.Size);
        _present.Remove(field.Index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref byte At(TaskstatsField field) => ref Unsafe.Add(ref Unsafe.As<Storage, byte>(ref _storage), field.StorageOffset);

    [InlineArray(StorageBytes / sizeof(ulong))]
    private struct Storage
    {
        private ulong _element;
    }
}

/// <summary>
/// A <c>struct __kernel_timespec</c> (two <c>__s64</c>: <c>tv_sec</c>, <c>tv_nsec</c>), as the kernel
/// recorded it; kept raw because the header does not promise which clock it was read from.
/// </summary>
/// <param name="Seconds"><c>tv_sec</c>.</param>
/// <param name="Nanoseconds"><c>tv_nsec</c>.</param>
public readonly record struct KernelTimespec(long Seconds, long Nanoseconds);
