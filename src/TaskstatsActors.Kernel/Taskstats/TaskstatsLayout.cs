using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>The C type of a <c>struct taskstats</c> field.</summary>
public enum TaskstatsFieldKind
{
    /// <summary><c>__u8</c>.</summary>
    U8,
    /// <summary><c>__u16</c>.</summary>
    U16,
    /// <summary><c>__u32</c>.</summary>
    U32,
    /// <summary><c>__u64</c>.</summary>
    U64,
    /// <summary><c>char[TS_COMM_LEN]</c>, NUL-padded.</summary>
    Comm,
    /// <summary><c>struct __kernel_timespec</c>: <c>__s64 tv_sec</c>, <c>__s64 tv_nsec</c>.</summary>
    Timespec,
}

/// <summary>
/// One field of <c>struct taskstats</c>: its kernel name, C type, the struct version that added it,
/// and how to get and set it on a <see cref="TaskStats"/>. The list of these in
/// <see cref="TaskstatsLayout.Fields"/> is the only place field names are written down.
/// </summary>
public sealed class TaskstatsField
{
    internal TaskstatsField(string name, TaskstatsFieldKind kind, int since, int? alignedSince, string? v15After)
    {
        Name = name;
        Kind = kind;
        Since = since;
        AlignedSince = alignedSince;
        V15After = v15After;
        JsonName = JsonEncodedText.Encode(name);
        Size = kind switch
        {
            TaskstatsFieldKind.U8 => 1,
            TaskstatsFieldKind.U16 => 2,
            TaskstatsFieldKind.U32 => 4,
            TaskstatsFieldKind.U64 => 8,
            TaskstatsFieldKind.Comm => TaskstatsLayout.CommLength,
            _ => 16,
        };
    }

    /// <summary>The field's name in include/uapi/linux/taskstats.h, e.g. <c>cpu_delay_total</c>.</summary>
    public string Name { get; }

    /// <summary>The field's C type.</summary>
    public TaskstatsFieldKind Kind { get; }

    /// <summary>The first struct version that has the field.</summary>
    public int Since { get; }

    /// <summary>Bytes the field takes.</summary>
    public int Size { get; }

    /// <summary>
    /// The version from which the header marks the field <c>__attribute__((aligned(8)))</c>; before it
    /// (v2, v3) the field had its natural alignment, which moved <c>ac_uid</c> and all after it.
    /// </summary>
    internal int? AlignedSince { get; }

    /// <summary>Version 15 only: the field this one followed, because v15 put the peaks mid-struct.</summary>
    internal string? V15After { get; }

    internal JsonEncodedText JsonName { get; }

    internal Func<TaskStats, ulong?>? GetNumber { get; init; }
    internal Action<TaskStats, ulong>? SetNumber { get; init; }
    internal Func<TaskStats, string?>? GetText { get; init; }
    internal Action<TaskStats, string>? SetText { get; init; }
    internal Func<TaskStats, KernelTimespec?>? GetTime { get; init; }
    internal Action<TaskStats, KernelTimespec>? SetTime { get; init; }

    /// <summary>The alignment the field has in a struct of the given version (LP64 ABI).</summary>
    internal int AlignmentIn(int version)
    {
        var natural = Kind switch
        {
            TaskstatsFieldKind.Comm => 1,
            TaskstatsFieldKind.Timespec => 8,
            _ => Size,
        };
        return AlignedSince is { } since && version >= since ? Math.Max(natural, 8) : natural;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Kind}, v{Since})";
}

/// <summary>A field placed in one version's layout.</summary>
/// <param name="Field">The field.</param>
/// <param name="Offset">Its byte offset in that version's struct.</param>
public readonly record struct TaskstatsFieldSlot(TaskstatsField Field, int Offset)
{
    /// <summary>Bytes the field takes.</summary>
    public int Size => Field.Size;
}

/// <summary>
/// The byte layout of <c>struct taskstats</c> for one struct version, as a 64-bit (LP64) kernel sends
/// it: offsets follow the C rules (natural alignment, plus the header's <c>aligned(8)</c> marks), and
/// <see cref="Size"/> is <c>sizeof(struct taskstats)</c>, the length of the <c>TASKSTATS_TYPE_STATS</c>
/// attribute. Values are native-endian; this library reads them as little-endian (x86-64, arm64).
/// </summary>
/// <remarks>
/// History the table encodes: v1 had padding where v2 put <c>ac_exitcode</c>, <c>ac_flag</c> and
/// <c>ac_nice</c>; v2 added basic and extended accounting; v3 storage I/O; v4 added no field but the
/// <c>aligned(8)</c> marks, moving <c>ac_uid</c> from offset 116 to 120; v5 context switches; v6
/// scaled times; v7 memory reclaim; v8 only changed CPU times to real microseconds; v9 thrashing;
/// v10 <c>ac_btime64</c>; v11 compaction; v12 tgid, tgid elapsed time, executable; v13 write-protect
/// copy; v14 IRQ; v15 inserted each <c>*_delay_max</c>/<c>*_delay_min</c> pair right after its
/// <c>*_delay_total</c>, which broke every later offset; v16 moved the pairs to the end; v17 appended
/// the time of each maximum. Sizes: 72, 240, 264, 272, 288, 312, 328, 328, 344, 352, 368, 400, 416,
/// 432, 560, 560, 688.
/// </remarks>
public sealed class TaskstatsLayout
{
    /// <summary>The oldest struct version.</summary>
    public const int FirstVersion = 1;

    /// <summary>The newest struct version this library knows; newer ones decode as this one.</summary>
    public const int LatestVersion = 17;

    /// <summary><c>TS_COMM_LEN</c>: bytes of <c>ac_comm</c>.</summary>
    public const int CommLength = 32;

    private static readonly TaskstatsField[] AllFields =
    [
        U16("version", 1, s => s.Version, (s, v) => s.Version = (ushort)v),
        U32("ac_exitcode", 2, s => s.AcExitcode, (s, v) => s.AcExitcode = (uint)v),
        U8("ac_flag", 2, s => s.AcFlag, (s, v) => s.AcFlag = (byte)v),
        U8("ac_nice", 2, s => s.AcNice, (s, v) => s.AcNice = (byte)v),
        U64("cpu_count", 1, s => s.CpuCount, (s, v) => s.CpuCount = v, alignedSince: 4),
        U64("cpu_delay_total", 1, s => s.CpuDelayTotal, (s, v) => s.CpuDelayTotal = v),
        U64("blkio_count", 1, s => s.BlkioCount, (s, v) => s.BlkioCount = v),
        U64("blkio_delay_total", 1, s => s.BlkioDelayTotal, (s, v) => s.BlkioDelayTotal = v),
        U64("swapin_count", 1, s => s.SwapinCount, (s, v) => s.SwapinCount = v),
        U64("swapin_delay_total", 1, s => s.SwapinDelayTotal, (s, v) => s.SwapinDelayTotal = v),
        U64("cpu_run_real_total", 1, s => s.CpuRunRealTotal, (s, v) => s.CpuRunRealTotal = v),
        U64("cpu_run_virtual_total", 1, s => s.CpuRunVirtualTotal, (s, v) => s.CpuRunVirtualTotal = v),
        new("ac_comm", TaskstatsFieldKind.Comm, 2, null, null) { GetText = s => s.AcComm, SetText = (s, v) => s.AcComm = v },
        U8("ac_sched", 2, s => s.AcSched, (s, v) => s.AcSched = (byte)v, alignedSince: 4),
        U32("ac_uid", 2, s => s.AcUid, (s, v) => s.AcUid = (uint)v, alignedSince: 4),
        U32("ac_gid", 2, s => s.AcGid, (s, v) => s.AcGid = (uint)v),
        U32("ac_pid", 2, s => s.AcPid, (s, v) => s.AcPid = (uint)v),
        U32("ac_ppid", 2, s => s.AcPpid, (s, v) => s.AcPpid = (uint)v),
        U32("ac_btime", 2, s => s.AcBtime, (s, v) => s.AcBtime = (uint)v),
        U64("ac_etime", 2, s => s.AcEtime, (s, v) => s.AcEtime = v, alignedSince: 4),
        U64("ac_utime", 2, s => s.AcUtime, (s, v) => s.AcUtime = v),
        U64("ac_stime", 2, s => s.AcStime, (s, v) => s.AcStime = v),
        U64("ac_minflt", 2, s => s.AcMinflt, (s, v) => s.AcMinflt = v),
        U64("ac_majflt", 2, s => s.AcMajflt, (s, v) => s.AcMajflt = v),
        U64("coremem", 2, s => s.Coremem, (s, v) => s.Coremem = v),
        U64("virtmem", 2, s => s.Virtmem, (s, v) => s.Virtmem = v),
        U64("hiwater_rss", 2, s => s.HiwaterRss, (s, v) => s.HiwaterRss = v),
        U64("hiwater_vm", 2, s => s.HiwaterVm, (s, v) => s.HiwaterVm = v),
        U64("read_char", 2, s => s.ReadChar, (s, v) => s.ReadChar = v),
        U64("write_char", 2, s => s.WriteChar, (s, v) => s.WriteChar = v),
        U64("read_syscalls", 2, s => s.ReadSyscalls, (s, v) => s.ReadSyscalls = v),
        U64("write_syscalls", 2, s => s.WriteSyscalls, (s, v) => s.WriteSyscalls = v),
        U64("read_bytes", 3, s => s.ReadBytes, (s, v) => s.ReadBytes = v),
        U64("write_bytes", 3, s => s.WriteBytes, (s, v) => s.WriteBytes = v),
        U64("cancelled_write_bytes", 3, s => s.CancelledWriteBytes, (s, v) => s.CancelledWriteBytes = v),
        U64("nvcsw", 5, s => s.Nvcsw, (s, v) => s.Nvcsw = v),
        U64("nivcsw", 5, s => s.Nivcsw, (s, v) => s.Nivcsw = v),
        U64("ac_utimescaled", 6, s => s.AcUtimescaled, (s, v) => s.AcUtimescaled = v),
        U64("ac_stimescaled", 6, s => s.AcStimescaled, (s, v) => s.AcStimescaled = v),
        U64("cpu_scaled_run_real_total", 6, s => s.CpuScaledRunRealTotal, (s, v) => s.CpuScaledRunRealTotal = v),
        U64("freepages_count", 7, s => s.FreepagesCount, (s, v) => s.FreepagesCount = v),
        U64("freepages_delay_total", 7, s => s.FreepagesDelayTotal, (s, v) => s.FreepagesDelayTotal = v),
        U64("thrashing_count", 9, s => s.ThrashingCount, (s, v) => s.ThrashingCount = v),
        U64("thrashing_delay_total", 9, s => s.ThrashingDelayTotal, (s, v) => s.ThrashingDelayTotal = v),
        U64("ac_btime64", 10, s => s.AcBtime64, (s, v) => s.AcBtime64 = v),
        U64("compact_count", 11, s => s.CompactCount, (s, v) => s.CompactCount = v),
        U64("compact_delay_total", 11, s => s.CompactDelayTotal, (s, v) => s.CompactDelayTotal = v),
        U32("ac_tgid", 12, s => s.AcTgid, (s, v) => s.AcTgid = (uint)v),
        U64("ac_tgetime", 12, s => s.AcTgetime, (s, v) => s.AcTgetime = v, alignedSince: 12),
        U64("ac_exe_dev", 12, s => s.AcExeDev, (s, v) => s.AcExeDev = v),
        U64("ac_exe_inode", 12, s => s.AcExeInode, (s, v) => s.AcExeInode = v),
        U64("wpcopy_count", 13, s => s.WpcopyCount, (s, v) => s.WpcopyCount = v),
        U64("wpcopy_delay_total", 13, s => s.WpcopyDelayTotal, (s, v) => s.WpcopyDelayTotal = v),
        U64("irq_count", 14, s => s.IrqCount, (s, v) => s.IrqCount = v),
        U64("irq_delay_total", 14, s => s.IrqDelayTotal, (s, v) => s.IrqDelayTotal = v),
        U64("cpu_delay_max", 15, s => s.CpuDelayMax, (s, v) => s.CpuDelayMax = v, v15After: "cpu_delay_total"),
        U64("cpu_delay_min", 15, s => s.CpuDelayMin, (s, v) => s.CpuDelayMin = v, v15After: "cpu_delay_max"),
        U64("blkio_delay_max", 15, s => s.BlkioDelayMax, (s, v) => s.BlkioDelayMax = v, v15After: "blkio_delay_total"),
        U64("blkio_delay_min", 15, s => s.BlkioDelayMin, (s, v) => s.BlkioDelayMin = v, v15After: "blkio_delay_max"),
        U64("swapin_delay_max", 15, s => s.SwapinDelayMax, (s, v) => s.SwapinDelayMax = v, v15After: "swapin_delay_total"),
        U64("swapin_delay_min", 15, s => s.SwapinDelayMin, (s, v) => s.SwapinDelayMin = v, v15After: "swapin_delay_max"),
        U64("freepages_delay_max", 15, s => s.FreepagesDelayMax, (s, v) => s.FreepagesDelayMax = v, v15After: "freepages_delay_total"),
        U64("freepages_delay_min", 15, s => s.FreepagesDelayMin, (s, v) => s.FreepagesDelayMin = v, v15After: "freepages_delay_max"),
        U64("thrashing_delay_max", 15, s => s.ThrashingDelayMax, (s, v) => s.ThrashingDelayMax = v, v15After: "thrashing_delay_total"),
        U64("thrashing_delay_min", 15, s => s.ThrashingDelayMin, (s, v) => s.ThrashingDelayMin = v, v15After: "thrashing_delay_max"),
        U64("compact_delay_max", 15, s => s.CompactDelayMax, (s, v) => s.CompactDelayMax = v, v15After: "compact_delay_total"),
        U64("compact_delay_min", 15, s => s.CompactDelayMin, (s, v) => s.CompactDelayMin = v, v15After: "compact_delay_max"),
        U64("wpcopy_delay_max", 15, s => s.WpcopyDelayMax, (s, v) => s.WpcopyDelayMax = v, v15After: "wpcopy_delay_total"),
        U64("wpcopy_delay_min", 15, s => s.WpcopyDelayMin, (s, v) => s.WpcopyDelayMin = v, v15After: "wpcopy_delay_max"),
        U64("irq_delay_max", 15, s => s.IrqDelayMax, (s, v) => s.IrqDelayMax = v, v15After: "irq_delay_total"),
        U64("irq_delay_min", 15, s => s.IrqDelayMin, (s, v) => s.IrqDelayMin = v, v15After: "irq_delay_max"),
        Ts("cpu_delay_max_ts", s => s.CpuDelayMaxTs, (s, v) => s.CpuDelayMaxTs = v),
        Ts("blkio_delay_max_ts", s => s.BlkioDelayMaxTs, (s, v) => s.BlkioDelayMaxTs = v),
        Ts("swapin_delay_max_ts", s => s.SwapinDelayMaxTs, (s, v) => s.SwapinDelayMaxTs = v),
        Ts("freepages_delay_max_ts", s => s.FreepagesDelayMaxTs, (s, v) => s.FreepagesDelayMaxTs = v),
        Ts("thrashing_delay_max_ts", s => s.ThrashingDelayMaxTs, (s, v) => s.ThrashingDelayMaxTs = v),
        Ts("compact_delay_max_ts", s => s.CompactDelayMaxTs, (s, v) => s.CompactDelayMaxTs = v),
        Ts("wpcopy_delay_max_ts", s => s.WpcopyDelayMaxTs, (s, v) => s.WpcopyDelayMaxTs = v),
        Ts("irq_delay_max_ts", s => s.IrqDelayMaxTs, (s, v) => s.IrqDelayMaxTs = v),
    ];

    // Index 0 is unused so a version indexes its own layout.
    private static readonly TaskstatsLayout[] Layouts = BuildAll();

    private readonly TaskstatsFieldSlot[] _slots;
    private readonly Dictionary<string, int> _offsets;

    private TaskstatsLayout(int version, TaskstatsFieldSlot[] slots, int size)
    {
        Version = version;
        _slots = slots;
        Size = size;
        _offsets = slots.ToDictionary(slot => slot.Field.Name, slot => slot.Offset, StringComparer.Ordinal);
    }

    /// <summary>Every field of every version, in the order of the newest header.</summary>
    public static IReadOnlyList<TaskstatsField> Fields => AllFields;

    /// <summary>The struct version this layout is for.</summary>
    public int Version { get; }

    /// <summary><c>sizeof(struct taskstats)</c> in this version: the shortest payload that holds it.</summary>
    public int Size { get; }

    /// <summary>This version's fields, in offset order.</summary>
    public IReadOnlyList<TaskstatsFieldSlot> Slots => _slots;

    // Spans let the per-record loops run without an enumerator allocation.
    internal ReadOnlySpan<TaskstatsFieldSlot> SlotSpan => _slots;

    internal static ReadOnlySpan<TaskstatsField> FieldSpan => AllFields;

    /// <summary>The layout of a struct version from <see cref="FirstVersion"/> to <see cref="LatestVersion"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The version is not one this library knows.</exception>
    public static TaskstatsLayout ForVersion(int version)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(version, FirstVersion);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(version, LatestVersion);
        return Layouts[version];
    }

    /// <summary>
    /// The layout to decode a payload of the given version with: its own, or <see cref="LatestVersion"/>'s
    /// for a newer kernel (whose struct only grew at the end). False for version 0.
    /// </summary>
    public static bool TryForDecoding(int version, [NotNullWhen(true)] out TaskstatsLayout? layout)
    {
        layout = version < FirstVersion ? null : Layouts[Math.Min(version, LatestVersion)];
        return layout is not null;
    }

    /// <summary>The offset of a field (by kernel name) in this version, if this version has it.</summary>
    public bool TryGetOffset(string name, out int offset) => _offsets.TryGetValue(name, out offset);

    /// <inheritdoc />
    public override string ToString() => $"struct taskstats v{Version} ({Size} bytes)";

    private static TaskstatsLayout[] BuildAll()
    {
        var layouts = new TaskstatsLayout[LatestVersion + 1];
        for (var version = FirstVersion; version <= LatestVersion; version++)
            layouts[version] = Build(version);
        return layouts;
    }

    private static TaskstatsLayout Build(int version)
    {
        var order = AllFields.Where(f => f.Since <= version && (version != 15 || f.V15After is null)).ToList();
        if (version == 15)
        {
            // In canonical order each pair's max comes before its min, so the min finds its anchor placed.
            foreach (var field in AllFields.Where(f => f.Since <= 15 && f.V15After is not null))
            {
                var anchor = order.FindIndex(f => f.Name == field.V15After);
                if (anchor < 0)
                    throw new InvalidOperationException($"taskstats v15 anchor {field.V15After} of {field.Name} is not in the layout");
                order.Insert(anchor + 1, field);
            }
        }

        var slots = new TaskstatsFieldSlot[order.Count];
        int offset = 0, structAlignment = 1;
        for (var i = 0; i < order.Count; i++)
        {
            var alignment = order[i].AlignmentIn(version);
            structAlignment = Math.Max(structAlignment, alignment);
            offset = AlignUp(offset, alignment);
            slots[i] = new TaskstatsFieldSlot(order[i], offset);
            offset += order[i].Size;
        }
        return new TaskstatsLayout(version, slots, AlignUp(offset, structAlignment));
    }

    private static int AlignUp(int value, int alignment) => (value + alignment - 1) / alignment * alignment;

    private static TaskstatsField U8(string name, int since, Func<TaskStats, ulong?> get, Action<TaskStats, ulong> set, int? alignedSince = null) =>
        new(name, TaskstatsFieldKind.U8, since, alignedSince, null) { GetNumber = get, SetNumber = set };

    private static TaskstatsField U16(string name, int since, Func<TaskStats, ulong?> get, Action<TaskStats, ulong> set) =>
        new(name, TaskstatsFieldKind.U16, since, null, null) { GetNumber = get, SetNumber = set };

    private static TaskstatsField U32(string name, int since, Func<TaskStats, ulong?> get, Action<TaskStats, ulong> set, int? alignedSince = null) =>
        new(name, TaskstatsFieldKind.U32, since, alignedSince, null) { GetNumber = get, SetNumber = set };

    private static TaskstatsField U64(string name, int since, Func<TaskStats, ulong?> get, Action<TaskStats, ulong> set,
        int? alignedSince = null, string? v15After = null) =>
        new(name, TaskstatsFieldKind.U64, since, alignedSince, v15After) { GetNumber = get, SetNumber = set };

    private static TaskstatsField Ts(string name, Func<TaskStats, KernelTimespec?> get, Action<TaskStats, KernelTimespec> set) =>
        new(name, TaskstatsFieldKind.Timespec, 17, null, null) { GetTime = get, SetTime = set };
}
