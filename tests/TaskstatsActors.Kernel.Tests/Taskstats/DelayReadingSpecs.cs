using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

public sealed class DelayReadingSpecs
{
    [Theory]
    [InlineData(DelayCategory.Cpu, "cpu")]
    [InlineData(DelayCategory.Reclaim, "freepages")]
    [InlineData(DelayCategory.WriteProtectCopy, "wpcopy")]
    [InlineData(DelayCategory.Irq, "irq")]
    public void A_categorys_kernel_prefix_should_name_its_fields_in_the_struct(DelayCategory category, string prefix)
    {
        Assert.Equal(prefix, DelayReading.KernelPrefix(category));
        Assert.Contains(TaskstatsLayout.Fields, field => field.Name == prefix + "_delay_total");
    }

    [Fact]
    public void A_categorys_total_alone_should_be_what_the_full_reading_gives_and_null_where_absent()
    {
        var stats = new TaskStats { Version = 16, CpuDelayTotal = 5, IrqDelayTotal = 9, ThrashingDelayTotal = null };

        foreach (var category in DelayReading.Categories)
            Assert.Equal(DelayReading.Of(stats, category).TotalNs, DelayReading.TotalOf(stats, category));
        Assert.Equal(9UL, DelayReading.TotalOf(stats, DelayCategory.Irq));
        Assert.Null(DelayReading.TotalOf(stats, DelayCategory.Thrashing));
        Assert.Throws<ArgumentOutOfRangeException>(() => DelayReading.TotalOf(stats, (DelayCategory)99));
    }
}
