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
}
