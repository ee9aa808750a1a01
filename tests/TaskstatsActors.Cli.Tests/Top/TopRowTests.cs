using TaskstatsActors.Cli.Top;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Tests.Top;

public sealed class TopRowTests
{
    private static ProcessSample Sample(uint tgid, string comm, ulong cpuUs, ulong cpuDelayNs, ulong blkioNs, ulong read, ulong write) =>
        new(tgid, comm, cpuUs, new Dictionary<DelayCategory, ulong> { [DelayCategory.Cpu] = cpuDelayNs, [DelayCategory.BlockIo] = blkioNs }, read, write);

    [Fact]
    public void A_row_should_give_each_delay_as_a_share_of_the_interval_and_io_as_a_rate()
    {
        var before = Sample(7, "db", cpuUs: 1_000_000, cpuDelayNs: 0, blkioNs: 0, read: 0, write: 0);
        var after = Sample(7, "db", cpuUs: 1_500_000, cpuDelayNs: 200_000_000, blkioNs: 1_000_000_000, read: 4096, write: 8192);

        var row = TopRow.Between(before, after, TimeSpan.FromSeconds(2));

        Assert.Equal(25.0, row.CpuPercent, 6);          // 0.5 s of CPU in 2 s
        Assert.Equal(10.0, row.DelayPercent[DelayCategory.Cpu], 6);     // 0.2 s waiting for a CPU in 2 s
        Assert.Equal(50.0, row.DelayPercent[DelayCategory.BlockIo], 6); // 1 s waiting for I/O in 2 s
        Assert.Equal(2048, row.ReadPerSecond, 6);
        Assert.Equal(4096, row.WritePerSecond, 6);
        Assert.False(row.DelayPercent.ContainsKey(DelayCategory.Irq)); // the kernel did not send it: absent, not 0
    }

    [Fact]
    public void A_tgid_reused_by_another_process_should_not_give_negative_rates()
    {
        var before = Sample(7, "old", cpuUs: 9_000_000, cpuDelayNs: 9, blkioNs: 9, read: 9, write: 9);
        var after = Sample(7, "new", cpuUs: 1, cpuDelayNs: 1, blkioNs: 1, read: 1, write: 1);

        var row = TopRow.Between(before, after, TimeSpan.FromSeconds(1));

        Assert.Equal(0, row.CpuPercent);
        Assert.Equal(0, row.DelayPercent[DelayCategory.Cpu]);
        Assert.Equal(0, row.ReadPerSecond);
    }

    [Fact]
    public void The_table_should_be_sorted_by_the_chosen_column_and_mark_it()
    {
        var rows = new[]
        {
            TopRow.Between(Sample(1, "a", 0, 0, 0, 0, 0), Sample(1, "a", 0, 100, 900_000_000, 0, 0), TimeSpan.FromSeconds(1)),
            TopRow.Between(Sample(2, "b", 0, 0, 0, 0, 0), Sample(2, "b", 0, 800_000_000, 0, 0, 0), TimeSpan.FromSeconds(1)),
        };

        var byCpu = TopRenderer.Render(rows, TopColumn.Cpu, 10, DateTime.Now, TimeSpan.FromSeconds(1), true).Split('\n');
        var byBlkio = TopRenderer.Render(rows, TopColumn.Blkio, 10, DateTime.Now, TimeSpan.FromSeconds(1), true).Split('\n');

        Assert.Contains("*CPUDLY%", byCpu[1]);
        Assert.StartsWith("       2 b", byCpu[2]);
        Assert.Contains("*BLKIO%", byBlkio[1]);
        Assert.StartsWith("       1 a", byBlkio[2]);
    }

    [Theory]
    [InlineData('c', TopColumn.Cpu)]
    [InlineData('b', TopColumn.Blkio)]
    [InlineData('u', TopColumn.CpuTime)]
    [InlineData('o', TopColumn.Io)]
    public void Keys_and_names_should_pick_their_columns(char key, TopColumn column)
    {
        Assert.Equal(column, TopColumns.ForKey(key));
        Assert.Equal(column, TopColumns.Parse(TopColumns.Name(column)));
    }
}
