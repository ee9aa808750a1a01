using System.Reflection;
using System.Text;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

/// <summary>
/// The compact inside of <see cref="TaskStats"/>: every property reaches the field of its own kernel name and
/// no other, an absent field stays null, and decoding copies a version's payload in a few ranges.
/// </summary>
public sealed class TaskStatsStorageSpecs
{
    /// <summary>Every public property but <see cref="TaskStats.PayloadLength"/>, with the kernel name it should map to.</summary>
    public static TheoryData<string> FieldNames()
    {
        var data = new TheoryData<string>();
        foreach (var field in TaskstatsLayout.Fields)
            data.Add(field.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(FieldNames))]
    public void Each_property_should_read_and_write_the_field_of_its_kernel_name_and_no_other(string name)
    {
        var field = TaskstatsLayout.Fields.Single(f => f.Name == name);
        var property = typeof(TaskStats).GetProperty(PascalCase(name), BindingFlags.Public | BindingFlags.Instance)
            ?? throw new InvalidOperationException($"TaskStats has no property for {name}");
        var stats = new TaskStats();
        object value = field.Kind switch
        {
            TaskstatsFieldKind.Comm => "probe",
            TaskstatsFieldKind.Timespec => new KernelTimespec(1_700_000_123, 456_789),
            TaskstatsFieldKind.U8 => (byte)0xA7,
            TaskstatsFieldKind.U16 => (ushort)0xA7B6,
            TaskstatsFieldKind.U32 => 0xA7B6_C5D4u,
            _ => 0xA7B6_C5D4_E3F2_0110ul,
        };
        var before = Snapshot(stats);

        property.SetValue(stats, value);

        Assert.Equal(value, property.GetValue(stats));
        Assert.Equal(value, Value(field, stats));
        var after = Snapshot(stats);
        foreach (var other in TaskstatsLayout.Fields.Where(f => f != field))
            Assert.True(Equals(before[other.Name], after[other.Name]), $"setting {name} changed {other.Name}");

        if (field.Since > TaskstatsLayout.FirstVersion)
        {
            property.SetValue(stats, null);
            Assert.Null(property.GetValue(stats));
            Assert.Null(Value(field, stats));
        }
    }

    [Fact]
    public void A_new_record_should_hold_only_the_fields_every_version_has()
    {
        var stats = new TaskStats();

        var present = TaskstatsLayout.Fields.Where(f => Value(f, stats) is not null).Select(f => f.Name);

        Assert.Equal(TaskstatsLayout.ForVersion(1).Slots.Select(s => s.Field.Name).Order(), present.Order());
    }

    [Fact]
    public void A_field_set_to_null_should_be_absent_and_read_as_zero_bytes_when_encoded()
    {
        var stats = new TaskStats { Version = 16, AcPid = 42, IrqDelayMax = 7 };

        stats.AcPid = null;
        stats.IrqDelayMax = null;
        var back = TaskstatsDecoder.Decode(TaskstatsEncoder.Encode(stats, 16));

        Assert.Null(stats.AcPid);
        Assert.Null(stats.IrqDelayMax);
        Assert.Equal(0u, back.AcPid);
        Assert.Equal(0ul, back.IrqDelayMax);
    }

    [Theory]
    [InlineData(16, 1)] // the newest layout's prefix: one copy
    [InlineData(17, 1)]
    [InlineData(14, 1)]
    [InlineData(15, 16)] // the peaks sit mid-struct: each of the 8 pairs, and each stretch between them, is a range
    public void Decoding_should_copy_a_version_in_few_ranges(int version, int ranges)
    {
        Assert.Equal(ranges, TaskstatsLayout.ForVersion(version).Runs.Length);
    }

    [Fact]
    public void Command_names_should_be_shared_between_records_with_the_same_name()
    {
        var bytes = TaskstatsEncoder.Encode(new TaskStats { AcComm = "same-name" }, 16);

        var first = TaskstatsDecoder.Decode(bytes);
        var second = TaskstatsDecoder.Decode(bytes);

        Assert.Equal("same-name", first.AcComm);
        Assert.Same(first.AcComm, second.AcComm);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("ßüñé-non-ascii")]
    [InlineData("exactly-thirty-two-bytes-long-01")]
    public void Command_names_should_decode_as_before(string name)
    {
        Assert.Equal(32, Encoding.UTF8.GetByteCount("exactly-thirty-two-bytes-long-01"));
        var bytes = TaskstatsEncoder.Encode(new TaskStats { AcComm = name }, 16);

        Assert.Equal(name, TaskstatsDecoder.Decode(bytes).AcComm);
        Assert.Equal(name, TaskstatsDecoder.Decode(bytes).AcComm);
    }

    private static string PascalCase(string kernelName) =>
        string.Concat(kernelName.Split('_').Select(part => char.ToUpperInvariant(part[0]) + part[1..]));

    private static Dictionary<string, object?> Snapshot(TaskStats stats) =>
        TaskstatsLayout.Fields.ToDictionary(f => f.Name, f => Value(f, stats));

    private static object? Value(TaskstatsField field, TaskStats stats) => field.Kind switch
    {
        TaskstatsFieldKind.Comm => field.GetText!(stats),
        TaskstatsFieldKind.Timespec => field.GetTime!(stats),
        TaskstatsFieldKind.U8 => (byte?)field.GetNumber!(stats),
        TaskstatsFieldKind.U16 => (ushort?)field.GetNumber!(stats),
        TaskstatsFieldKind.U32 => (uint?)field.GetNumber!(stats),
        _ => field.GetNumber!(stats),
    };
}
