using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

/// <summary>
/// <see cref="TaskstatsNumberReader"/> reads what reading field by field reads: every number field's value,
/// and null where the record's struct version lacks the field, in the order it was given.
/// </summary>
public sealed class TaskstatsNumberReaderSpecs
{
    private static readonly TaskstatsField[] NumberFields = TaskstatsLayout.Fields
        .Where(field => field.Kind is not (TaskstatsFieldKind.Comm or TaskstatsFieldKind.Timespec))
        .ToArray();

    public static TheoryData<int> Versions()
    {
        var data = new TheoryData<int>();
        for (var version = TaskstatsLayout.FirstVersion; version <= TaskstatsLayout.LatestVersion; version++)
            data.Add(version);
        return data;
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void It_should_read_each_field_as_reading_field_by_field_does_in_every_struct_version(int version)
    {
        // Each field a value of its own that fills its width, so a read at a wrong offset or size shows.
        var stats = new TaskStats();
        for (var i = 0; i < NumberFields.Length; i++)
        {
            var field = NumberFields[i];
            if (field.Since <= version && field.Name != "version")
                field.SetNumber!(stats, 0x8070_6050_4030_2010ul * (ulong)(i + 1));
        }
        var decoded = TaskstatsDecoder.Decode(TaskstatsEncoder.Encode(stats, version));
        // A shuffled order: the reader keeps the order it was given, not the struct's.
        var fields = NumberFields.Reverse().ToArray();
        var reader = new TaskstatsNumberReader(fields);
        var values = new ulong[fields.Length];
        var present = new bool[fields.Length];

        reader.Read(decoded, values, present);

        Assert.Equal(fields, reader.Fields);
        for (var i = 0; i < fields.Length; i++)
        {
            var expected = fields[i].GetNumber!(decoded);
            Assert.True(expected.HasValue == present[i], $"v{version} {fields[i].Name}: present {present[i]}, field by field {expected.HasValue}");
            Assert.True((expected ?? 0) == values[i], $"v{version} {fields[i].Name}: {values[i]:x}, field by field {expected:x}");
        }
    }

    [Fact]
    public void A_field_set_absent_after_it_had_a_value_should_read_as_absent_and_zero()
    {
        var stats = new TaskStats { AcUtime = 42, ReadBytes = 7 };
        stats.AcUtime = null;
        var reader = new TaskstatsNumberReader(NumberFields.Where(f => f.Name is "ac_utime" or "read_bytes"));
        Span<ulong> values = stackalloc ulong[2];
        Span<bool> present = stackalloc bool[2];

        reader.Read(stats, values, present);

        Assert.Equal([false, true], present.ToArray());
        Assert.Equal([0ul, 7ul], values.ToArray());
    }

    [Fact]
    public void Reading_should_allocate_nothing()
    {
        var reader = new TaskstatsNumberReader(NumberFields);
        var stats = TaskstatsDecoder.Decode(TaskstatsFixtures.RealV16Bytes());
        var values = new ulong[NumberFields.Length];
        var present = new bool[NumberFields.Length];
        reader.Read(stats, values, present);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
            reader.Read(stats, values, present);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData("ac_comm")]
    [InlineData("cpu_delay_max_ts")]
    public void It_should_refuse_a_field_that_is_not_a_number(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => new TaskstatsNumberReader(TaskstatsLayout.Fields.Where(f => f.Name == name)));
        Assert.Contains(name, error.Message);
    }

    [Fact]
    public void It_should_refuse_spans_shorter_than_its_fields()
    {
        var reader = new TaskstatsNumberReader(NumberFields);
        var error = Assert.Throws<ArgumentException>(() => reader.Read(new TaskStats(), new ulong[NumberFields.Length - 1], new bool[NumberFields.Length]));
        Assert.Contains($"{NumberFields.Length}", error.Message);
    }
}
