using System.Buffers.Binary;
using System.Text;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

/// <summary>
/// Byte images of other struct versions built by hand: every offset below is written out here from
/// the header history (worked out with C's alignment rules and checked with gcc's offsetof), not
/// taken from <see cref="TaskstatsLayout"/>, so a wrong table fails these tests.
/// </summary>
public sealed class TaskstatsLayoutSpecs
{
    /// <summary>A field to plant: where, how wide, and the property that must read it back.</summary>
    private sealed record Probe(int Offset, int Size, Func<TaskStats, ulong?> Read)
    {
        // Distinct per offset, and wider than 32 bits for u64 so a misread width shows too.
        public ulong Value => Size switch
        {
            1 => (byte)(Offset * 131 + 17),
            2 => (ushort)(Offset * 131 + 17),
            4 => 0xA500_0000u | (uint)(Offset * 131 + 17),
            _ => 0xA5A5_0000_0000_0000ul | (uint)(Offset * 131 + 17),
        };
    }

    // v1 (Linux 2.6.18): version, padding, then the delay fields from offset 8.
    private static readonly Probe[] V1 =
    [
        new(8, 8, s => s.CpuCount), new(16, 8, s => s.CpuDelayTotal), new(24, 8, s => s.BlkioCount),
        new(32, 8, s => s.BlkioDelayTotal), new(40, 8, s => s.SwapinCount), new(48, 8, s => s.SwapinDelayTotal),
        new(56, 8, s => s.CpuRunRealTotal), new(64, 8, s => s.CpuRunVirtualTotal),
    ];

    // v2 and v3, before the aligned(8) marks of v4: ac_uid sat at 116 on x86-64.
    private static readonly Probe[] V3 =
    [
        new(4, 4, s => s.AcExitcode), new(8, 1, s => s.AcFlag), new(9, 1, s => s.AcNice),
        new(16, 8, s => s.CpuCount), new(72, 8, s => s.CpuRunVirtualTotal), new(112, 1, s => s.AcSched),
        new(116, 4, s => s.AcUid), new(120, 4, s => s.AcGid), new(124, 4, s => s.AcPid), new(128, 4, s => s.AcPpid),
        new(132, 4, s => s.AcBtime), new(136, 8, s => s.AcEtime), new(168, 8, s => s.AcMajflt),
        new(232, 8, s => s.WriteSyscalls), new(240, 8, s => s.ReadBytes), new(256, 8, s => s.CancelledWriteBytes),
    ];

    // v8 (same bytes as v7): the prefix every later version but v15 keeps.
    private static readonly Probe[] V8 =
    [
        new(4, 4, s => s.AcExitcode), new(8, 1, s => s.AcFlag), new(9, 1, s => s.AcNice),
        new(16, 8, s => s.CpuCount), new(24, 8, s => s.CpuDelayTotal), new(32, 8, s => s.BlkioCount),
        new(40, 8, s => s.BlkioDelayTotal), new(48, 8, s => s.SwapinCount), new(56, 8, s => s.SwapinDelayTotal),
        new(64, 8, s => s.CpuRunRealTotal), new(72, 8, s => s.CpuRunVirtualTotal),
        new(112, 1, s => s.AcSched), new(120, 4, s => s.AcUid), new(124, 4, s => s.AcGid), new(128, 4, s => s.AcPid),
        new(132, 4, s => s.AcPpid), new(136, 4, s => s.AcBtime), new(144, 8, s => s.AcEtime), new(152, 8, s => s.AcUtime),
        new(160, 8, s => s.AcStime), new(168, 8, s => s.AcMinflt), new(176, 8, s => s.AcMajflt), new(184, 8, s => s.Coremem),
        new(192, 8, s => s.Virtmem), new(200, 8, s => s.HiwaterRss), new(208, 8, s => s.HiwaterVm),
        new(216, 8, s => s.ReadChar), new(224, 8, s => s.WriteChar), new(232, 8, s => s.ReadSyscalls),
        new(240, 8, s => s.WriteSyscalls), new(248, 8, s => s.ReadBytes), new(256, 8, s => s.WriteBytes),
        new(264, 8, s => s.CancelledWriteBytes), new(272, 8, s => s.Nvcsw), new(280, 8, s => s.Nivcsw),
        new(288, 8, s => s.AcUtimescaled), new(296, 8, s => s.AcStimescaled), new(304, 8, s => s.CpuScaledRunRealTotal),
        new(312, 8, s => s.FreepagesCount), new(320, 8, s => s.FreepagesDelayTotal),
    ];

    private static readonly Probe[] V10 =
    [
        .. V8,
        new(328, 8, s => s.ThrashingCount), new(336, 8, s => s.ThrashingDelayTotal), new(344, 8, s => s.AcBtime64),
    ];

    private static readonly Probe[] V13 =
    [
        .. V10,
        new(352, 8, s => s.CompactCount), new(360, 8, s => s.CompactDelayTotal), new(368, 4, s => s.AcTgid),
        new(376, 8, s => s.AcTgetime), new(384, 8, s => s.AcExeDev), new(392, 8, s => s.AcExeInode),
        new(400, 8, s => s.WpcopyCount), new(408, 8, s => s.WpcopyDelayTotal),
    ];

    private static readonly Probe[] V14 = [.. V13, new(416, 8, s => s.IrqCount), new(424, 8, s => s.IrqDelayTotal)];

    // v16: the peaks, moved to the end.
    private static readonly Probe[] V16 =
    [
        .. V14,
        new(432, 8, s => s.CpuDelayMax), new(440, 8, s => s.CpuDelayMin), new(448, 8, s => s.BlkioDelayMax),
        new(456, 8, s => s.BlkioDelayMin), new(464, 8, s => s.SwapinDelayMax), new(472, 8, s => s.SwapinDelayMin),
        new(480, 8, s => s.FreepagesDelayMax), new(488, 8, s => s.FreepagesDelayMin), new(496, 8, s => s.ThrashingDelayMax),
        new(504, 8, s => s.ThrashingDelayMin), new(512, 8, s => s.CompactDelayMax), new(520, 8, s => s.CompactDelayMin),
        new(528, 8, s => s.WpcopyDelayMax), new(536, 8, s => s.WpcopyDelayMin), new(544, 8, s => s.IrqDelayMax),
        new(552, 8, s => s.IrqDelayMin),
    ];

    // v15: each peak pair right after its total, shifting everything behind it.
    private static readonly Probe[] V15 =
    [
        new(4, 4, s => s.AcExitcode), new(8, 1, s => s.AcFlag), new(9, 1, s => s.AcNice),
        new(16, 8, s => s.CpuCount), new(24, 8, s => s.CpuDelayTotal), new(32, 8, s => s.CpuDelayMax),
        new(40, 8, s => s.CpuDelayMin), new(48, 8, s => s.BlkioCount), new(56, 8, s => s.BlkioDelayTotal),
        new(64, 8, s => s.BlkioDelayMax), new(72, 8, s => s.BlkioDelayMin), new(80, 8, s => s.SwapinCount),
        new(88, 8, s => s.SwapinDelayTotal), new(96, 8, s => s.SwapinDelayMax), new(104, 8, s => s.SwapinDelayMin),
        new(112, 8, s => s.CpuRunRealTotal), new(120, 8, s => s.CpuRunVirtualTotal),
        new(160, 1, s => s.AcSched), new(168, 4, s => s.AcUid), new(172, 4, s => s.AcGid), new(176, 4, s => s.AcPid),
        new(180, 4, s => s.AcPpid), new(184, 4, s => s.AcBtime), new(192, 8, s => s.AcEtime), new(200, 8, s => s.AcUtime),
        new(208, 8, s => s.AcStime), new(216, 8, s => s.AcMinflt), new(224, 8, s => s.AcMajflt),
        new(232, 8, s => s.Coremem), new(256, 8, s => s.HiwaterVm), new(288, 8, s => s.WriteSyscalls),
        new(296, 8, s => s.ReadBytes), new(312, 8, s => s.CancelledWriteBytes), new(320, 8, s => s.Nvcsw),
        new(328, 8, s => s.Nivcsw), new(336, 8, s => s.AcUtimescaled), new(352, 8, s => s.CpuScaledRunRealTotal),
        new(360, 8, s => s.FreepagesCount), new(368, 8, s => s.FreepagesDelayTotal), new(376, 8, s => s.FreepagesDelayMax),
        new(384, 8, s => s.FreepagesDelayMin), new(392, 8, s => s.ThrashingCount), new(400, 8, s => s.ThrashingDelayTotal),
        new(408, 8, s => s.ThrashingDelayMax), new(416, 8, s => s.ThrashingDelayMin), new(424, 8, s => s.AcBtime64),
        new(432, 8, s => s.CompactCount), new(440, 8, s => s.CompactDelayTotal), new(448, 8, s => s.CompactDelayMax),
        new(456, 8, s => s.CompactDelayMin), new(464, 4, s => s.AcTgid), new(472, 8, s => s.AcTgetime),
        new(480, 8, s => s.AcExeDev), new(488, 8, s => s.AcExeInode), new(496, 8, s => s.WpcopyCount),
        new(504, 8, s => s.WpcopyDelayTotal), new(512, 8, s => s.WpcopyDelayMax), new(520, 8, s => s.WpcopyDelayMin),
        new(528, 8, s => s.IrqCount), new(536, 8, s => s.IrqDelayTotal), new(544, 8, s => s.IrqDelayMax),
        new(552, 8, s => s.IrqDelayMin),
    ];

    // v17: a struct __kernel_timespec per peak, after the v16 fields.
    private static readonly (int Offset, Func<TaskStats, KernelTimespec?> Read)[] V17Timestamps =
    [
        (560, s => s.CpuDelayMaxTs), (576, s => s.BlkioDelayMaxTs), (592, s => s.SwapinDelayMaxTs),
        (608, s => s.FreepagesDelayMaxTs), (624, s => s.ThrashingDelayMaxTs), (640, s => s.CompactDelayMaxTs),
        (656, s => s.WpcopyDelayMaxTs), (672, s => s.IrqDelayMaxTs),
    ];

    [Theory]
    [InlineData(1, 72)]
    [InlineData(2, 240)]
    [InlineData(3, 264)]
    [InlineData(4, 272)]
    [InlineData(5, 288)]
    [InlineData(6, 312)]
    [InlineData(7, 328)]
    [InlineData(8, 328)]
    [InlineData(9, 344)]
    [InlineData(10, 352)]
    [InlineData(11, 368)]
    [InlineData(12, 400)]
    [InlineData(13, 416)]
    [InlineData(14, 432)]
    [InlineData(15, 560)]
    [InlineData(16, 560)]
    [InlineData(17, 688)]
    public void Layout_should_have_the_struct_size_of_each_version(int version, int size)
    {
        Assert.Equal(size, TaskstatsLayout.ForVersion(version).Size);
    }

    [Fact]
    public void Layouts_should_never_overlap_fields_nor_run_past_the_struct()
    {
        for (var version = TaskstatsLayout.FirstVersion; version <= TaskstatsLayout.LatestVersion; version++)
        {
            var layout = TaskstatsLayout.ForVersion(version);
            var end = 0;
            foreach (var slot in layout.Slots)
            {
                Assert.True(slot.Offset >= end, $"v{version}: {slot.Field.Name} at {slot.Offset} overlaps the field before it");
                end = slot.Offset + slot.Size;
            }
            Assert.True(end <= layout.Size, $"v{version}: fields run to {end}, past {layout.Size}");
        }
    }

    /// <summary>The versions built by hand below, with their struct sizes.</summary>
    public static TheoryData<int, int> BuiltImages() => new()
    {
        { 1, 72 },   // the delay fields and nothing later
        { 3, 264 },  // ac_uid at its unaligned offset
        { 8, 328 },  // every field of the long-stable prefix
        { 10, 352 }, // adds thrashing and ac_btime64
        { 13, 416 }, // adds compaction, tgid, exe and wpcopy
        { 14, 432 }, // adds irq, no peaks yet
        { 15, 560 }, // peaks in the middle of the struct
        { 16, 560 }, // peaks at the end of the struct
    };

    [Theory]
    [MemberData(nameof(BuiltImages))]
    public void Built_image_should_decode_each_field_from_its_offset(int version, int size)
    {
        var (probes, absent) = version switch
        {
            1 => (V1, new Func<TaskStats, object?>[] { s => s.AcExitcode, s => s.AcFlag, s => s.AcComm, s => s.AcPid, s => s.AcEtime, s => s.WriteSyscalls }),
            3 => (V3, [s => s.Nvcsw, s => s.AcUtimescaled]),
            8 => (V8, [s => s.ThrashingCount, s => s.AcBtime64, s => s.AcTgid, s => s.CpuDelayMax, s => s.CpuDelayMaxTs]),
            10 => (V10, [s => s.CompactCount, s => s.WpcopyCount]),
            13 => (V13, [s => s.IrqCount, s => s.IrqDelayTotal]),
            14 => (V14, [s => s.CpuDelayMax, s => s.IrqDelayMin]),
            15 => (V15, [s => s.CpuDelayMaxTs, s => s.IrqDelayMaxTs]),
            _ => (V16, [s => s.CpuDelayMaxTs, s => s.IrqDelayMaxTs]),
        };
        var comm = version == 1 ? null : $"probe-v{version}";

        var stats = TaskstatsDecoder.Decode(Image(version, size, probes, comm));

        Assert.Equal(version, stats.Version);
        Assert.Equal(size, stats.PayloadLength);
        Assert.Equal(comm, stats.AcComm);
        AssertProbes(stats, probes);
        Assert.All(absent, read => Assert.Null(read(stats)));
    }

    [Fact]
    public void Version_15_and_16_should_read_the_same_bytes_differently()
    {
        var image = Image(16, 560, V16, "probe");
        var asV16 = TaskstatsDecoder.Decode(image);
        BinaryPrimitives.WriteUInt16LittleEndian(image, 15);
        var asV15 = TaskstatsDecoder.Decode(image);

        Assert.Equal(new Probe(48, 8, s => s.SwapinCount).Value, asV16.SwapinCount);
        Assert.Equal(new Probe(48, 8, s => s.BlkioCount).Value, asV15.BlkioCount);
        Assert.Equal(new Probe(432, 8, s => s.CpuDelayMax).Value, asV16.CpuDelayMax);
        Assert.Equal(new Probe(432, 8, s => s.CompactCount).Value, asV15.CompactCount);
    }

    [Fact]
    public void Version_17_should_add_the_time_of_each_peak()
    {
        var image = Image(17, 688, V16, "probe-v17");
        foreach (var (offset, _) in V17Timestamps)
        {
            BinaryPrimitives.WriteInt64LittleEndian(image.AsSpan(offset), 1_700_000_000 + offset);
            BinaryPrimitives.WriteInt64LittleEndian(image.AsSpan(offset + 8), 999_000_000 - offset);
        }

        var stats = TaskstatsDecoder.Decode(image);

        AssertProbes(stats, V16);
        foreach (var (offset, read) in V17Timestamps)
            Assert.Equal(new KernelTimespec(1_700_000_000 + offset, 999_000_000 - offset), read(stats));
    }

    [Fact]
    public void Layout_should_know_each_field_by_its_kernel_name()
    {
        var v16 = TaskstatsLayout.ForVersion(16);

        Assert.True(v16.TryGetOffset("cpu_delay_max", out var max16));
        Assert.True(TaskstatsLayout.ForVersion(15).TryGetOffset("cpu_delay_max", out var max15));
        Assert.Equal(432, max16);
        Assert.Equal(32, max15);
        Assert.False(v16.TryGetOffset("cpu_delay_max_ts", out _));
        Assert.Equal(TaskstatsLayout.Fields.Count, TaskstatsLayout.Fields.Select(f => f.Name).Distinct().Count());
    }

    private static byte[] Image(int version, int size, Probe[] probes, string? comm)
    {
        var image = new byte[size];
        BinaryPrimitives.WriteUInt16LittleEndian(image, (ushort)version);
        foreach (var probe in probes)
        {
            var at = image.AsSpan(probe.Offset, probe.Size);
            switch (probe.Size)
            {
                case 1: at[0] = (byte)probe.Value; break;
                case 2: BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)probe.Value); break;
                case 4: BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)probe.Value); break;
                default: BinaryPrimitives.WriteUInt64LittleEndian(at, probe.Value); break;
            }
        }
        if (comm is not null)
        {
            // ac_comm sits after the eight delay fields of v1: at 80, or at 128 in v15.
            Encoding.ASCII.GetBytes(comm, image.AsSpan(version == 15 ? 128 : 80, 32));
        }
        return image;
    }

    private static void AssertProbes(TaskStats stats, Probe[] probes)
    {
        foreach (var probe in probes)
            Assert.True(probe.Value == probe.Read(stats),
                $"field at offset {probe.Offset}: expected 0x{probe.Value:X}, read 0x{probe.Read(stats):X}");
    }
}
