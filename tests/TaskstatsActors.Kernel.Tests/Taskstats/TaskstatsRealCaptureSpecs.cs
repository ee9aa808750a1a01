using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

/// <summary>An exit record captured from this machine's kernel (Linux 6.18, struct version 16).</summary>
public sealed class TaskstatsRealCaptureSpecs
{
    private readonly byte[] _bytes = TaskstatsFixtures.RealV16Bytes();
    private readonly IReadOnlyDictionary<string, string> _facts = TaskstatsFixtures.RealV16Facts();

    [Fact]
    public void Real_capture_should_decode_as_version_16_of_560_bytes()
    {
        var stats = TaskstatsDecoder.Decode(_bytes);

        Assert.Equal(560, _bytes.Length);
        Assert.Equal(16, stats.Version);
        Assert.Equal(560, stats.PayloadLength);
        Assert.Equal(560, TaskstatsLayout.ForVersion(16).Size);
    }

    [Fact]
    public void Real_capture_should_name_the_child_the_parent_forked()
    {
        var stats = TaskstatsDecoder.Decode(_bytes);

        Assert.Equal("fixture-v16", stats.AcComm);
        Assert.Equal(uint.Parse(_facts["pid"]), stats.AcPid);
        Assert.Equal(uint.Parse(_facts["pid"]), stats.AcTgid);
        Assert.Equal(uint.Parse(_facts["ppid"]), stats.AcPpid);
        Assert.Equal(uint.Parse(_facts["uid"]), stats.AcUid);
        Assert.Equal(uint.Parse(_facts["gid"]), stats.AcGid);
    }

    [Fact]
    public void Real_capture_should_carry_exit_status_7_in_wait_status_form()
    {
        var stats = TaskstatsDecoder.Decode(_bytes);

        // The kernel keeps exit(7) as the wait(2) status 7 << 8.
        Assert.Equal(7, int.Parse(_facts["exit_status"]));
        Assert.Equal(uint.Parse(_facts["wait_status"]), stats.AcExitcode);
        Assert.Equal(7u, (stats.AcExitcode >> 8) & 0xff);
    }

    [Fact]
    public void Real_capture_should_show_the_cpu_the_child_burned()
    {
        var stats = TaskstatsDecoder.Decode(_bytes);

        // The child spun for 50 ms of wall time.
        Assert.InRange(stats.AcEtime!.Value, 40_000ul, 5_000_000ul);
        Assert.True(stats.AcUtime + stats.AcStime >= 20_000, "the child should have used at least 20 ms of CPU");
        Assert.True(stats.CpuRunRealTotal >= 20_000_000, "cpu_run_real_total is in ns");
        Assert.Equal(stats.AcUtime, stats.AcUtimescaled);
        Assert.Equal(stats.AcBtime, stats.AcBtime64);
        Assert.Equal(stats.AcEtime, stats.AcTgetime);
    }

    [Fact]
    public void Real_capture_should_have_the_v16_peaks_and_no_v17_timestamps()
    {
        var stats = TaskstatsDecoder.Decode(_bytes);

        Assert.NotNull(stats.CpuDelayMax);
        Assert.NotNull(stats.CpuDelayMin);
        Assert.NotNull(stats.IrqDelayMax);
        Assert.NotNull(stats.IrqDelayMin);
        // Peaks moved to the end in v16; read from there they agree with the totals.
        Assert.True(stats.CpuDelayMax <= stats.CpuDelayTotal);
        Assert.True(stats.CpuDelayMin <= stats.CpuDelayMax);
        if (stats.CpuCount > 0)
            Assert.True(stats.CpuDelayMax > 0);

        Assert.Null(stats.CpuDelayMaxTs);
        Assert.Null(stats.IrqDelayMaxTs);
    }

    [Fact]
    public void Decoding_should_allocate_only_the_record_and_its_command_name()
    {
        TaskstatsDecoder.Decode(_bytes); // JIT and static layout tables first

        var before = GC.GetAllocatedBytesForCurrentThread();
        _ = new TaskStats();
        var recordOnly = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        _ = TaskstatsDecoder.Decode(_bytes);
        var decoded = GC.GetAllocatedBytesForCurrentThread() - before;

        // "fixture-v16" as a .NET string: a 22-byte header plus 11 UTF-16 chars, rounded up to 8.
        Assert.InRange(decoded - recordOnly, 0, 48);
    }

    [Fact]
    public void Real_capture_should_encode_back_to_the_same_bytes()
    {
        var stats = TaskstatsDecoder.Decode(_bytes);

        Assert.Equal(_bytes, TaskstatsEncoder.Encode(stats, 16));
    }
}
