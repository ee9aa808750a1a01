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
/// One field of <c>struct taskstats</c>: its kernel name, C type and the struct version that added it.
/// The list of these (<see cref="TaskstatsLayout.Fields"/>, declared in <c>TaskstatsFields</c>) is the only
/// place field names are written down.
/// </summary>
public sealed class TaskstatsField
{
    internal TaskstatsField(int index, string name, TaskstatsFieldKind kind, int since, int? alignedSince, TaskstatsField? v15After)
    {
        Index = index;
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
        // By-field access as delegates, for code that walks the table (tests); the decoder, encoder and JSON
        // writer call TaskStats's by-field methods directly.
        if (kind == TaskstatsFieldKind.Comm)
        {
            GetText = s => s.GetText(this);
            SetText = (s, v) => s.SetText(this, v);
        }
        else if (kind == TaskstatsFieldKind.Timespec)
        {
            GetTime = s => s.GetTime(this);
            SetTime = (s, v) => s.SetTime(this, v);
        }
        else
        {
            GetNumber = s => s.GetNumber(this);
            SetNumber = (s, v) => s.SetNumber(this, v);
        }
    }

    /// <summary>The field's name in include/uapi/linux/taskstats.h, e.g. <c>cpu_delay_total</c>.</summary>
    public string Name { get; }

    /// <summary>The field's C type.</summary>
    public TaskstatsFieldKind Kind { get; }

    /// <summary>The first struct version that has the field.</summary>
    public int Since { get; }

    /// <summary>Bytes the field takes.</summary>
    public int Size { get; }

    /// <summary>Whether the field is an unsigned number (<c>__u8</c> to <c>__u64</c>), not text or a timestamp.</summary>
    internal bool IsNumber => Kind is TaskstatsFieldKind.U8 or TaskstatsFieldKind.U16 or TaskstatsFieldKind.U32 or TaskstatsFieldKind.U64;

    /// <summary>
    /// The version from which the header marks the field <c>__attribute__((aligned(8)))</c>; before it
    /// (v2, v3) the field had its natural alignment, which moved <c>ac_uid</c> and all after it.
    /// </summary>
    internal int? AlignedSince { get; }

    /// <summary>Version 15 only: the field this one followed, because v15 put the peaks mid-struct.</summary>
    internal TaskstatsField? V15After { get; }

    /// <summary>The field's place in <see cref="TaskstatsLayout.Fields"/>, which is also its bit in a record's set of fields.</summary>
    internal int Index { get; }

    /// <summary>Where a <see cref="TaskStats"/> keeps the field: its offset in the newest version's struct.</summary>
    internal int StorageOffset { get; set; }

    internal JsonEncodedText JsonName { get; }

    internal Func<TaskStats, ulong?>? GetNumber { get; }
    internal Action<TaskStats, ulong>? SetNumber { get; }
    internal Func<TaskStats, string?>? GetText { get; }
    internal Action<TaskStats, string>? SetText { get; }
    internal Func<TaskStats, KernelTimespec?>? GetTime { get; }
    internal Action<TaskStats, KernelTimespec>? SetTime { get; }

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

    // Index 0 is unused so a version indexes its own layout.
    private static readonly TaskstatsLayout[] Layouts = BuildAll();

    private readonly TaskstatsFieldSlot[] _slots;
    private readonly Dictionary<string, int> _offsets;
    private readonly CopyRun[] _runs;

    private TaskstatsLayout(int version, TaskstatsFieldSlot[] slots, int size)
    {
        Version = version;
        _slots = slots;
        Size = size;
        _offsets = slots.ToDictionary(slot => slot.Field.Name, slot => slot.Offset, StringComparer.Ordinal);
        _runs = CopyRuns(slots);
        Present = FieldSet.Of(slots.Select(slot => slot.Field));
        CommOffset = _offsets.GetValueOrDefault(TaskstatsFields.AcComm.Name, -1);
    }

    /// <summary>Every field of every version, in the order of the newest header.</summary>
    public static IReadOnlyList<TaskstatsField> Fields => TaskstatsFields.All;

    /// <summary>The struct version this layout is for.</summary>
    public int Version { get; }

    /// <summary><c>sizeof(struct taskstats)</c> in this version: the shortest payload that holds it.</summary>
    public int Size { get; }

    /// <summary>This version's fields, in offset order.</summary>
    public IReadOnlyList<TaskstatsFieldSlot> Slots => _slots;

    // Spans let the per-record loops run without an enumerator allocation.
    internal ReadOnlySpan<TaskstatsFieldSlot> SlotSpan => _slots;

    internal static ReadOnlySpan<TaskstatsField> FieldSpan => TaskstatsFields.All;

    /// <summary>
    /// How to decode this version: byte ranges of the payload to copy to a <see cref="TaskStats"/>'s storage,
    /// which keeps every field where the newest version has it. Version 16 and 17 are one range; older ones a few.
    /// </summary>
    internal ReadOnlySpan<CopyRun> Runs => _runs;

    /// <summary>The fields this version has.</summary>
    internal FieldSet Present { get; }

    /// <summary>Offset of <c>ac_comm</c>, or -1 when the version has none (version 1).</summary>
    internal int CommOffset { get; }

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
        var all = TaskstatsFields.All;
        var order = all.Where(f => f.Since <= version && (version != 15 || f.V15After is null)).ToList();
        if (version == 15)
        {
            // In canonical order each pair's max comes before its min, so the min finds its anchor placed.
            foreach (var field in all.Where(f => f.Since <= 15 && f.V15After is not null))
            {
                var anchor = order.IndexOf(field.V15After!);
                if (anchor < 0)
                    throw new InvalidOperationException($"taskstats v15 anchor {field.V15After!.Name} of {field.Name} is not in the layout");
                order.Insert(anchor + 1, field);
            }
        }
        var (slots, size) = TaskstatsFields.Place(order, version);
        return new TaskstatsLayout(version, slots, size);
    }

    /// <summary>
    /// Merges the slots (in offset order) into ranges that keep the same distance between payload and storage.
    /// Padding between two fields is copied along only when the storage has no field there either.
    /// </summary>
    private static CopyRun[] CopyRuns(TaskstatsFieldSlot[] slots)
    {
        var runs = new List<CopyRun>();
        foreach (var slot in slots)
        {
            var to = slot.Field.StorageOffset;
            if (runs.Count > 0 && runs[^1] is var last
                && slot.Offset - last.From == to - last.To
                && !TaskstatsFields.All.Any(f => f.StorageOffset >= last.To + last.Length && f.StorageOffset < to))
                runs[^1] = last with { Length = slot.Offset + slot.Size - last.From };
            else
                runs.Add(new CopyRun(slot.Offset, to, slot.Size));
        }
        return [.. runs];
    }
}

/// <summary>Bytes to copy from a payload (at <paramref name="From"/>) to a record's storage (at <paramref name="To"/>).</summary>
internal readonly record struct CopyRun(int From, int To, int Length);
