using System.Text;
using System.Text.Json;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

public sealed class TaskstatsJsonSpecs
{
    [Fact]
    public void Json_keys_of_a_v16_record_should_be_the_kernel_field_names()
    {
        var stats = TaskstatsDecoder.Decode(TaskstatsFixtures.RealV16Bytes());

        using var json = JsonDocument.Parse(ToJson(stats));
        var root = json.RootElement;

        Assert.Equal(16, root.GetProperty("version").GetInt32());
        Assert.Equal("fixture-v16", root.GetProperty("ac_comm").GetString());
        Assert.Equal(stats.AcExitcode, root.GetProperty("ac_exitcode").GetUInt32());
        Assert.Equal(stats.AcPid, root.GetProperty("ac_pid").GetUInt32());
        Assert.Equal(stats.CpuDelayTotal, root.GetProperty("cpu_delay_total").GetUInt64());
        Assert.Equal(stats.WpcopyDelayTotal, root.GetProperty("wpcopy_delay_total").GetUInt64());
        Assert.Equal(stats.IrqDelayTotal, root.GetProperty("irq_delay_total").GetUInt64());
        Assert.Equal(stats.CpuDelayMax, root.GetProperty("cpu_delay_max").GetUInt64());
        Assert.Equal(stats.AcBtime64, root.GetProperty("ac_btime64").GetUInt64());
        Assert.Equal(JsonValueKind.Number, root.GetProperty("ac_flag").ValueKind);
    }

    [Fact]
    public void Json_should_hold_exactly_the_fields_of_the_records_version()
    {
        var stats = TaskstatsDecoder.Decode(TaskstatsFixtures.RealV16Bytes());

        using var json = JsonDocument.Parse(ToJson(stats));
        var keys = json.RootElement.EnumerateObject().Select(p => p.Name).ToList();

        Assert.Equal(TaskstatsLayout.ForVersion(16).Slots.Select(s => s.Field.Name), keys);
        Assert.DoesNotContain("cpu_delay_max_ts", keys);
        Assert.DoesNotContain("ac_pad", keys);
        Assert.All(keys, key => Assert.Matches("^[a-z][a-z0-9_]*$", key));
    }

    [Fact]
    public void Json_should_leave_out_what_an_old_version_lacks()
    {
        var stats = TaskstatsDecoder.Decode(TaskstatsEncoder.Encode(new TaskStats { CpuCount = 5, AcComm = "old" }, 1));

        using var json = JsonDocument.Parse(ToJson(stats));
        var keys = json.RootElement.EnumerateObject().Select(p => p.Name).ToList();

        Assert.Equal(
            ["version", "cpu_count", "cpu_delay_total", "blkio_count", "blkio_delay_total", "swapin_count",
             "swapin_delay_total", "cpu_run_real_total", "cpu_run_virtual_total"],
            keys);
        Assert.Equal(5ul, json.RootElement.GetProperty("cpu_count").GetUInt64());
    }

    [Fact]
    public void Json_should_write_v17_timestamps_as_tv_sec_and_tv_nsec()
    {
        var stats = new TaskStats { Version = 17, IrqDelayMaxTs = new KernelTimespec(1_750_000_000, 123_456_789) };

        using var json = JsonDocument.Parse(ToJson(stats));
        var ts = json.RootElement.GetProperty("irq_delay_max_ts");

        Assert.Equal(1_750_000_000, ts.GetProperty("tv_sec").GetInt64());
        Assert.Equal(123_456_789, ts.GetProperty("tv_nsec").GetInt64());
        Assert.False(json.RootElement.TryGetProperty("cpu_delay_max_ts", out _));
    }

    [Fact]
    public void Json_should_write_the_largest_u64_as_an_exact_number()
    {
        var stats = new TaskStats { CpuDelayTotal = ulong.MaxValue };

        Assert.Contains("\"cpu_delay_total\":18446744073709551615", ToJson(stats));
    }

    private static string ToJson(TaskStats stats)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            TaskstatsJson.WriteFields(writer, stats);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
