using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Kernel.Tests.Cpus;

public sealed class CpuMaskValidateSpecs
{
    private static readonly CpuMask Online = CpuMask.Parse("0-1");

    [Theory]
    [InlineData("0")]
    [InlineData("0-1")]
    public void Validate_should_accept_online_cpus(string mask)
    {
        CpuMask.Parse(mask).Validate(Online);
    }

    [Theory]
    [InlineData("9", "cpu 9 is not online (online: 0-1)")]
    [InlineData("1,9", "cpu 9 is not online (online: 0-1)")]
    [InlineData("8-9", "cpus 8-9 are not online (online: 0-1)")]
    [InlineData("0-3,8", "cpus 2-3,8 are not online (online: 0-1)")]
    public void Validate_should_name_the_cpus_that_are_not_online(string mask, string message)
    {
        var error = Assert.Throws<CpuMaskException>(() => CpuMask.Parse(mask).Validate(Online));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Validate_should_refuse_the_empty_mask()
    {
        Assert.Equal("cpu mask is empty", Assert.Throws<CpuMaskException>(() => CpuMask.Empty.Validate(Online)).Message);
    }

    [Fact]
    public void Validate_should_say_when_nothing_is_online()
    {
        var error = Assert.Throws<CpuMaskException>(() => CpuMask.Single(0).Validate(CpuMask.Empty));

        Assert.Equal("cpu 0 is not online (online: none)", error.Message);
    }

    [Fact]
    public void ToKernelString_should_give_the_canonical_list()
    {
        Assert.Equal("0-3,5", CpuMask.Parse("5,3,2,1,0").ToKernelString(nrCpus: 64));
    }

    [Fact]
    public void ToKernelString_should_work_on_this_machine()
    {
        var online = OnlineCpus.System.ReadOnline();

        Assert.Equal(online.ToString(), online.ToKernelString());
    }

    [Fact]
    public void ToKernelString_should_refuse_the_empty_mask()
    {
        var error = Assert.Throws<CpuMaskException>(() => CpuMask.Empty.ToKernelString(64));

        Assert.Equal("cpu mask is empty: the kernel would register it for no cpu", error.Message);
    }

    [Theory]
    [InlineData("0,64", 64, "cpu 64 is too large for this kernel (NR_CPUS = 64: cpus 0-63)")]
    [InlineData("0,70-71", 64, "cpus 70-71 are too large for this kernel (NR_CPUS = 64: cpus 0-63)")]
    [InlineData("1", 1, "cpu 1 is too large for this kernel (NR_CPUS = 1: cpu 0)")]
    public void ToKernelString_should_refuse_cpus_beyond_NR_CPUS(string mask, int nrCpus, string message)
    {
        var error = Assert.Throws<CpuMaskException>(() => CpuMask.Parse(mask).ToKernelString(nrCpus));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void The_kernel_length_limit_should_be_TASKSTATS_CPUMASK_MAXLEN()
    {
        Assert.Equal(100 + 6 * 256, CpuMask.KernelMaskMaxPayload(256));
    }

    [Fact]
    public void CheckKernelLength_should_count_the_terminating_NUL()
    {
        // NR_CPUS = 1: at most 106 bytes with the NUL, so 105 characters.
        CpuMask.CheckKernelLength(new string('0', 105), nrCpus: 1);

        var error = Assert.Throws<CpuMaskException>(() => CpuMask.CheckKernelLength(new string('0', 106), nrCpus: 1));

        Assert.Equal(
            "cpu mask string is 106 characters, longer than the kernel accepts: at most 105 " +
            "(TASKSTATS_CPUMASK_MAXLEN = 100 + 6 * NR_CPUS = 106 bytes with the terminating NUL, NR_CPUS = 1)",
            error.Message);
    }

    [Fact]
    public void No_mask_of_cpus_below_NR_CPUS_should_exceed_the_kernel_length_limit()
    {
        // The longest canonical list below NR_CPUS: every other cpu, so no ranges at all.
        foreach (var nrCpus in new[] { 2, 10, 100, 1000, 8192 })
        {
            var sparse = CpuMask.Of(Enumerable.Range(0, nrCpus).Where(cpu => cpu % 2 == 1 || cpu == nrCpus - 1));
            sparse.ToKernelString(nrCpus);
        }
    }
}
