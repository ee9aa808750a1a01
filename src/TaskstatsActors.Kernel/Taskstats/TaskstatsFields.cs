using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>
/// The fields of <c>struct taskstats</c>, in the order of the newest header: the only place where a field's
/// kernel name, C type and the version that added it are written down. <see cref="TaskStats"/> keeps each
/// field's value at the field's <see cref="TaskstatsField.StorageOffset"/> and its properties read and write
/// through the entries here; <see cref="TaskstatsLayout"/> places the fields for each struct version; the
/// decoder, the encoder and the JSON writer walk the list.
/// </summary>
internal static class TaskstatsFields
{
    // Static initializers run in textual order, so each field's Index is its place in this list.
    private static readonly List<TaskstatsField> Declared = [];

    public static readonly TaskstatsField Version = U16("version", 1);
    public static readonly TaskstatsField AcExitcode = U32("ac_exitcode", 2);
    public static readonly TaskstatsField AcFlag = U8("ac_flag", 2);
    public static readonly TaskstatsField AcNice = U8("ac_nice", 2);
    public static readonly TaskstatsField CpuCount = U64("cpu_count", 1, alignedSince: 4);
    public static readonly TaskstatsField CpuDelayTotal = U64("cpu_delay_total", 1);
    public static readonly TaskstatsField BlkioCount = U64("blkio_count", 1);
    public static readonly TaskstatsField BlkioDelayTotal = U64("blkio_delay_total", 1);
    public static readonly TaskstatsField SwapinCount = U64("swapin_count", 1);
    public static readonly TaskstatsField SwapinDelayTotal = U64("swapin_delay_total", 1);
    public static readonly TaskstatsField CpuRunRealTotal = U64("cpu_run_real_total", 1);
    public static readonly TaskstatsField CpuRunVirtualTotal = U64("cpu_run_virtual_total", 1);
    public static readonly TaskstatsField AcComm = Comm("ac_comm", 2);
    public static readonly TaskstatsField AcSched = U8("ac_sched", 2, alignedSince: 4);
    public static readonly TaskstatsField AcUid = U32("ac_uid", 2, alignedSince: 4);
    public static readonly TaskstatsField AcGid = U32("ac_gid", 2);
    public static readonly TaskstatsField AcPid = U32("ac_pid", 2);
    public static readonly TaskstatsField AcPpid = U32("ac_ppid", 2);
    public static readonly TaskstatsField AcBtime = U32("ac_btime", 2);
    public static readonly TaskstatsField AcEtime = U64("ac_etime", 2, alignedSince: 4);
    public static readonly TaskstatsField AcUtime = U64("ac_utime", 2);
    public static readonly TaskstatsField AcStime = U64("ac_stime", 2);
    public static readonly TaskstatsField AcMinflt = U64("ac_minflt", 2);
    public static readonly TaskstatsField AcMajflt = U64("ac_majflt", 2);
    public static readonly TaskstatsField Coremem = U64("coremem", 2);
    public static readonly TaskstatsField Virtmem = U64("virtmem", 2);
    public static readonly TaskstatsField HiwaterRss = U64("hiwater_rss", 2);
    public static readonly TaskstatsField HiwaterVm = U64("hiwater_vm", 2);
    public static readonly TaskstatsField ReadChar = U64("read_char", 2);
    public static readonly TaskstatsField WriteChar = U64("write_char", 2);
    public static readonly TaskstatsField ReadSyscalls = U64("read_syscalls", 2);
    public static readonly TaskstatsField WriteSyscalls = U64("write_syscalls", 2);
    public static readonly TaskstatsField ReadBytes = U64("read_bytes", 3);
    public static readonly TaskstatsField WriteBytes = U64("write_bytes", 3);
    public static readonly TaskstatsField CancelledWriteBytes = U64("cancelled_write_bytes", 3);
    public static readonly TaskstatsField Nvcsw = U64("nvcsw", 5);
    public static readonly TaskstatsField Nivcsw = U64("nivcsw", 5);
    public static readonly TaskstatsField AcUtimescaled = U64("ac_utimescaled", 6);
    public static readonly TaskstatsField AcStimescaled = U64("ac_stimescaled", 6);
    public static readonly TaskstatsField CpuScaledRunRealTotal = U64("cpu_scaled_run_real_total", 6);
    public static readonly TaskstatsField FreepagesCount = U64("freepages_count", 7);
    public static readonly TaskstatsField FreepagesDelayTotal = U64("freepages_delay_total", 7);
    public static readonly TaskstatsField ThrashingCount = U64("thrashing_count", 9);
    public static readonly TaskstatsField ThrashingDelayTotal = U64("thrashing_delay_total", 9);
    public static readonly TaskstatsField AcBtime64 = U64("ac_btime64", 10);
    public static readonly TaskstatsField CompactCount = U64("compact_count", 11);
    public static readonly TaskstatsField CompactDelayTotal = U64("compact_delay_total", 11);
    public static readonly TaskstatsField AcTgid = U32("ac_tgid", 12);
    public static readonly TaskstatsField AcTgetime = U64("ac_tgetime", 12, alignedSince: 12);
    public static readonly TaskstatsField AcExeDev = U64("ac_exe_dev", 12);
    public static readonly TaskstatsField AcExeInode = U64("ac_exe_inode", 12);
    public static readonly TaskstatsField WpcopyCount = U64("wpcopy_count", 13);
    public static readonly TaskstatsField WpcopyDelayTotal = U64("wpcopy_delay_total", 13);
    public static readonly TaskstatsField IrqCount = U64("irq_count", 14);
    public static readonly TaskstatsField IrqDelayTotal = U64("irq_delay_total", 14);
    public static readonly TaskstatsField CpuDelayMax = U64("cpu_delay_max", 15, v15After: CpuDelayTotal);
    public static readonly TaskstatsField CpuDelayMin = U64("cpu_delay_min", 15, v15After: CpuDelayMax);
    public static readonly TaskstatsField BlkioDelayMax = U64("blkio_delay_max", 15, v15After: BlkioDelayTotal);
    public static readonly TaskstatsField BlkioDelayMin = U64("blkio_delay_min", 15, v15After: BlkioDelayMax);
    public static readonly TaskstatsField SwapinDelayMax = U64("swapin_delay_max", 15, v15After: SwapinDelayTotal);
    public static readonly TaskstatsField SwapinDelayMin = U64("swapin_delay_min", 15, v15After: SwapinDelayMax);
    public static readonly TaskstatsField FreepagesDelayMax = U64("freepages_delay_max", 15, v15After: FreepagesDelayTotal);
    public static readonly TaskstatsField FreepagesDelayMin = U64("freepages_delay_min", 15, v15After: FreepagesDelayMax);
    public static readonly TaskstatsField ThrashingDelayMax = U64("thrashing_delay_max", 15, v15After: ThrashingDelayTotal);
    public static readonly TaskstatsField ThrashingDelayMin = U64("thrashing_delay_min", 15, v15After: ThrashingDelayMax);
    public static readonly TaskstatsField CompactDelayMax = U64("compact_delay_max", 15, v15After: CompactDelayTotal);
    public static readonly TaskstatsField CompactDelayMin = U64("compact_delay_min", 15, v15After: CompactDelayMax);
    public static readonly TaskstatsField WpcopyDelayMax = U64("wpcopy_delay_max", 15, v15After: WpcopyDelayTotal);
    public static readonly TaskstatsField WpcopyDelayMin = U64("wpcopy_delay_min", 15, v15After: WpcopyDelayMax);
    public static readonly TaskstatsField IrqDelayMax = U64("irq_delay_max", 15, v15After: IrqDelayTotal);
    public static readonly TaskstatsField IrqDelayMin = U64("irq_delay_min", 15, v15After: IrqDelayMax);
    public static readonly TaskstatsField CpuDelayMaxTs = Ts("cpu_delay_max_ts");
    public static readonly TaskstatsField BlkioDelayMaxTs = Ts("blkio_delay_max_ts");
    public static readonly TaskstatsField SwapinDelayMaxTs = Ts("swapin_delay_max_ts");
    public static readonly TaskstatsField FreepagesDelayMaxTs = Ts("freepages_delay_max_ts");
    public static readonly TaskstatsField ThrashingDelayMaxTs = Ts("thrashing_delay_max_ts");
    public static readonly TaskstatsField CompactDelayMaxTs = Ts("compact_delay_max_ts");
    public static readonly TaskstatsField WpcopyDelayMaxTs = Ts("wpcopy_delay_max_ts");
    public static readonly TaskstatsField IrqDelayMaxTs = Ts("irq_delay_max_ts");

    /// <summary>Every field, in the order of the newest header; a field's <see cref="TaskstatsField.Index"/> is its place here.</summary>
    public static readonly TaskstatsField[] All = Seal();

    /// <summary>Fields every version has (version 1's): a record always holds them.</summary>
    public static readonly FieldSet InEveryVersion = FieldSet.Of(All.Where(f => f.Since == TaskstatsLayout.FirstVersion));

    /// <summary>
    /// Places fields, in the given order, by C's rules (LP64) for struct version <paramref name="version"/>:
    /// natural alignment, plus the header's <c>aligned(8)</c> marks from the version that has them.
    /// </summary>
    /// <returns>Each field with its offset, and <c>sizeof</c> the struct.</returns>
    public static (TaskstatsFieldSlot[] Slots, int Size) Place(IReadOnlyList<TaskstatsField> order, int version)
    {
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
        return (slots, AlignUp(offset, structAlignment));
    }

    /// <summary>
    /// Gives every field its place in a <see cref="TaskStats"/>: its offset in the newest version's struct,
    /// which has every field. A record of that version (or of 16, its prefix) is then one copy of the payload.
    /// </summary>
    private static TaskstatsField[] Seal()
    {
        var all = Declared.ToArray();
        var (slots, size) = Place(all, TaskstatsLayout.LatestVersion);
        if (size > TaskStats.StorageBytes)
            throw new UnreachableException($"struct taskstats v{TaskstatsLayout.LatestVersion} takes {size} bytes, TaskStats keeps {TaskStats.StorageBytes}");
        if (all.Length > FieldSet.Capacity)
            throw new UnreachableException($"{all.Length} taskstats fields, a FieldSet holds {FieldSet.Capacity}");
        if (all.Count(f => f.Kind == TaskstatsFieldKind.Comm) != 1)
            throw new UnreachableException("TaskStats keeps exactly one text field, ac_comm");
        foreach (var slot in slots)
            slot.Field.StorageOffset = slot.Offset;
        return all;
    }

    private static int AlignUp(int value, int alignment) => (value + alignment - 1) / alignment * alignment;

    private static TaskstatsField Declare(string name, TaskstatsFieldKind kind, int since, int? alignedSince = null, TaskstatsField? v15After = null)
    {
        var field = new TaskstatsField(Declared.Count, name, kind, since, alignedSince, v15After);
        Declared.Add(field);
        return field;
    }

    private static TaskstatsField U8(string name, int since, int? alignedSince = null) => Declare(name, TaskstatsFieldKind.U8, since, alignedSince);

    private static TaskstatsField U16(string name, int since) => Declare(name, TaskstatsFieldKind.U16, since);

    private static TaskstatsField U32(string name, int since, int? alignedSince = null) => Declare(name, TaskstatsFieldKind.U32, since, alignedSince);

    private static TaskstatsField U64(string name, int since, int? alignedSince = null, TaskstatsField? v15After = null) =>
        Declare(name, TaskstatsFieldKind.U64, since, alignedSince, v15After);

    private static TaskstatsField Comm(string name, int since) => Declare(name, TaskstatsFieldKind.Comm, since);

    private static TaskstatsField Ts(string name) => Declare(name, TaskstatsFieldKind.Timespec, 17);
}

/// <summary>A set of fields by <see cref="TaskstatsField.Index"/>: which fields a record or a version has.</summary>
internal struct FieldSet
{
    public const int Capacity = 128;

    private ulong _low;
    private ulong _high;

    public static FieldSet Of(IEnumerable<TaskstatsField> fields)
    {
        var set = new FieldSet();
        foreach (var field in fields)
            set.Add(field.Index);
        return set;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool Contains(int index) => ((index < 64 ? _low : _high) & (1ul << index)) != 0; // shifts are mod 64

    public void Add(int index)
    {
        if (index < 64)
            _low |= 1ul << index;
        else
            _high |= 1ul << index;
    }

    public void Remove(int index)
    {
        if (index < 64)
            _low &= ~(1ul << index);
        else
            _high &= ~(1ul << index);
    }
}
