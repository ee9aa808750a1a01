using System.Buffers.Binary;
using CsCheck;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

public sealed class TaskstatsEncoderSpecs
{
    public static TheoryData<int> AllVersions()
    {
        var data = new TheoryData<int>();
        for (var version = TaskstatsLayout.FirstVersion; version <= TaskstatsLayout.LatestVersion; version++)
            data.Add(version);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Encoder_should_round_trip_every_field_of_each_version(int version)
    {
        var full = FullRecord(seed: 1);
        var layout = TaskstatsLayout.ForVersion(version);

        var bytes = TaskstatsEncoder.Encode(full, version);
        var back = TaskstatsDecoder.Decode(bytes);

        Assert.Equal(layout.Size, bytes.Length);
        Assert.Equal(version, back.Version);
        foreach (var field in TaskstatsLayout.Fields)
        {
            if (field.Name == "version")
                continue;
            if (layout.TryGetOffset(field.Name, out _))
                Assert.True(Equal(Value(field, full), Value(field, back)), $"v{version}: {field.Name} did not survive");
            else
                Assert.True(Value(field, back) is null, $"v{version}: {field.Name} should be absent");
        }
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Encoder_should_round_trip_random_records(int version)
    {
        Gen.ULong.Array[TaskstatsLayout.Fields.Count].Sample(values =>
        {
            var record = Record(values);
            var bytes = TaskstatsEncoder.Encode(record, version);
            Assert.Equal(bytes, TaskstatsEncoder.Encode(TaskstatsDecoder.Decode(bytes), version));
        }, iter: 200);
    }

    [Fact]
    public void Encoder_should_write_zero_for_a_field_the_record_lacks()
    {
        var stats = new TaskStats { Version = 16, CpuCount = 3, AcComm = "x" };

        var back = TaskstatsDecoder.Decode(TaskstatsEncoder.Encode(stats, 16));

        Assert.Equal(3ul, back.CpuCount);
        Assert.Equal(0ul, back.IrqDelayMax);
        Assert.Equal(0u, back.AcPid);
    }

    [Fact]
    public void Encoder_should_use_all_32_bytes_of_ac_comm_and_no_more()
    {
        var name = new string('n', 32);

        var back = TaskstatsDecoder.Decode(TaskstatsEncoder.Encode(new TaskStats { AcComm = name }, 16));

        Assert.Equal(name, back.AcComm);
        Assert.Throws<ArgumentException>(() => TaskstatsEncoder.Encode(new TaskStats { AcComm = name + "n" }, 16));
    }

    [Fact]
    public void Encoder_should_refuse_unknown_versions_and_small_buffers()
    {
        var stats = new TaskStats();

        Assert.Throws<ArgumentOutOfRangeException>(() => TaskstatsEncoder.Encode(stats, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TaskstatsEncoder.Encode(stats, 18));
        Assert.Throws<ArgumentException>(() => TaskstatsEncoder.Encode(stats, 16, new byte[559]));
        Assert.Equal(560, TaskstatsEncoder.Encode(stats, 16, new byte[600]));
    }

    [Fact]
    public void Encoder_should_stamp_the_version_it_was_asked_for()
    {
        var bytes = TaskstatsEncoder.Encode(new TaskStats { Version = 3 }, 14);

        Assert.Equal(14, BinaryPrimitives.ReadUInt16LittleEndian(bytes));
    }

    /// <summary>A record with every field set, to distinct values.</summary>
    internal static TaskStats FullRecord(int seed) =>
        Record(Enumerable.Range(0, TaskstatsLayout.Fields.Count).Select(i => 0x0101_0000_0000_0000ul * (ulong)(seed + 1) + (ulong)(i * 7919)).ToArray());

    private static TaskStats Record(ulong[] values)
    {
        var stats = new TaskStats();
        for (var i = 0; i < TaskstatsLayout.Fields.Count; i++)
        {
            var field = TaskstatsLayout.Fields[i];
            switch (field.Kind)
            {
                case TaskstatsFieldKind.Comm:
                    field.SetText!(stats, $"comm-{values[i] % 100_000}");
                    break;
                case TaskstatsFieldKind.Timespec:
                    field.SetTime!(stats, new KernelTimespec((long)values[i], (long)(values[i] % 1_000_000_000)));
                    break;
                default:
                    // Keep each value inside its field's width so a round trip can be exact.
                    var bits = field.Size * 8;
                    field.SetNumber!(stats, bits == 64 ? values[i] : values[i] & ((1ul << bits) - 1));
                    break;
            }
        }
        return stats;
    }

    private static object? Value(TaskstatsField field, TaskStats stats) => field.Kind switch
    {
        TaskstatsFieldKind.Comm => field.GetText!(stats),
        TaskstatsFieldKind.Timespec => field.GetTime!(stats),
        _ => field.GetNumber!(stats),
    };

    private static bool Equal(object? a, object? b) => Equals(a, b);
}
