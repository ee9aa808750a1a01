using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;
using static TaskstatsActors.Collector.Tests.AggregationSpecs.Exits;

namespace TaskstatsActors.Collector.Tests.AggregationSpecs;

public sealed class WindowAccumulatorSpecs
{
    private static WindowSummaryData Summarize(int top, params TaskstatsMessage[] messages)
    {
        var accumulator = new WindowAccumulator(top, T0);
        accumulator.Add(Batch(messages));
        return accumulator.Close(T0.AddSeconds(10));
    }

    private static string[] Keys(IReadOnlyList<GroupFigures> groups) => groups.Select(g => g.Key).ToArray();

    [Fact]
    public void Accumulator_should_sum_exits_cpu_and_io_per_command_uid_and_tgid()
    {
        var summary = Summarize(10,
            Task(10, "make", edit: s => { s.ReadBytes = 4096; s.WriteBytes = 100; }),
            Task(11, "make", edit: s => { s.AcUid = 0; s.AcUtime = 7; s.AcStime = 3; s.ReadBytes = 1; s.WriteBytes = 2; }),
            // A thread of process 12 exits before its leader.
            Task(13, "cc-worker", tgid: 12),
            Task(12, "cc"));

        Assert.Equal(4, summary.Exits);
        Assert.Equal(T0, summary.Start);
        Assert.Equal(T0.AddSeconds(10), summary.End);

        Assert.Equal(["make", "cc", "cc-worker"], Keys(summary.ByCommand));
        var make = summary.ByCommand[0];
        Assert.Equal(2, make.Exits);
        Assert.Equal(1_500UL + 10UL, make.CpuTimeUs);
        Assert.Equal(4097UL, make.ReadBytes);
        Assert.Equal(102UL, make.WriteBytes);
        Assert.Null(make.Command);

        Assert.Equal(["1000", "0"], Keys(summary.ByUser));
        Assert.Equal([3L, 1L], summary.ByUser.Select(g => g.Exits));
        Assert.Equal(3 * 1_500UL, summary.ByUser[0].CpuTimeUs);

        Assert.Equal(["12", "10", "11"], Keys(summary.ByProcess));
        var cc = summary.ByProcess[0];
        Assert.Equal(2, cc.Exits);
        Assert.Equal(3_000UL, cc.CpuTimeUs);
        Assert.Equal("cc", cc.Command); // the leader's name, though a thread was seen first
        Assert.Equal("make", summary.ByProcess[1].Command);
    }

    [Fact]
    public void Accumulator_should_keep_the_top_n_by_exits_with_ties_to_the_smaller_key()
    {
        var summary = Summarize(2,
            Task(1, "b"), Task(2, "c"), Task(3, "a"), Task(4, "b"), Task(5, "c"), Task(6, "b"), Task(7, "d"), Task(8, "d"),
            Task(20, "u", edit: s => s.AcUid = 10),
            Task(21, "u", edit: s => s.AcUid = 9),
            Task(22, "u", edit: s => s.AcUid = 100));

        // b 3, u 3, c 2, d 2, a 1: the cut falls after the tie at 3, which the smaller key leads.
        Assert.Equal(["b", "u"], Keys(summary.ByCommand));
        Assert.Equal([3L, 3L], summary.ByCommand.Select(g => g.Exits));
        // Uids compare as numbers, not text: 9 before 10 before 100, and 1000 (the default, 8 exits) first.
        Assert.Equal(["1000", "9"], Keys(summary.ByUser));

        var top3 = Summarize(3, Task(1, "b"), Task(2, "d"), Task(3, "c"), Task(4, "d"), Task(5, "c"), Task(6, "a"));
        Assert.Equal(["c", "d", "a"], Keys(top3.ByCommand));
    }

    [Fact]
    public void Accumulator_should_sum_delay_counts_and_totals_and_keep_the_longest()
    {
        var summary = Summarize(10,
            Task(1, "io", edit: s => { s.BlkioCount = 2; s.BlkioDelayTotal = 5_000; s.BlkioDelayMax = 4_000; s.CpuDelayMax = 20_000; }),
            Task(2, "io", edit: s => { s.BlkioCount = 1; s.BlkioDelayTotal = 9_000; s.BlkioDelayMax = 9_000; s.CpuDelayMax = 10_000; }),
            Task(3, "io", edit: s => { s.IrqCount = 4; s.IrqDelayTotal = 400; s.IrqDelayMax = 150; }));

        var io = Assert.Single(summary.ByCommand);
        Assert.Equal(new DelayFigures(9, 90_000, 20_000), io.Delays[DelayCategory.Cpu]);
        Assert.Equal(new DelayFigures(3, 14_000, 9_000), io.Delays[DelayCategory.BlockIo]);
        Assert.Equal(new DelayFigures(4, 400, 150), io.Delays[DelayCategory.Irq]);
        // Counted but never delayed: present with zeros, and no record carried a maximum.
        Assert.Equal(new DelayFigures(0, 0, null), io.Delays[DelayCategory.SwapIn]);
    }

    [Fact]
    public void Accumulator_should_report_a_maximum_of_zero_that_a_record_carried_as_zero_not_unknown()
    {
        var summary = Summarize(10,
            Task(1, "idle", edit: s => { s.SwapinDelayMax = 0; s.SwapinDelayMin = 0; }),
            Task(2, "idle"),
            Task(3, "busy", edit: s => s.SwapinDelayMax = 0),
            Task(4, "busy", edit: s => { s.SwapinCount = 1; s.SwapinDelayTotal = 70; s.SwapinDelayMax = 70; }));

        Assert.Equal(new DelayFigures(0, 0, 0), summary.ByCommand.Single(g => g.Key == "idle").Delays[DelayCategory.SwapIn]);
        Assert.Equal(new DelayFigures(1, 70, 70), summary.ByCommand.Single(g => g.Key == "busy").Delays[DelayCategory.SwapIn]);
        // Neither command's records carried a block I/O maximum.
        Assert.All(summary.ByCommand, g => Assert.Null(g.Delays[DelayCategory.BlockIo].MaxNs));
    }

    [Fact]
    public void Accumulator_should_leave_out_what_older_struct_versions_lack()
    {
        static void Version14(TaskStats s)
        {
            // v14: every category has count and total, none has a maximum.
            s.Version = 14;
            s.FreepagesCount = s.ThrashingCount = s.CompactCount = s.WpcopyCount = s.IrqCount = 0;
            s.FreepagesDelayTotal = s.ThrashingDelayTotal = s.CompactDelayTotal = s.WpcopyDelayTotal = s.IrqDelayTotal = 0;
            s.BlkioCount = 1;
            s.BlkioDelayTotal = 800;
        }

        static void Version6(TaskStats s)
        {
            // v6: no ac_tgid, no reclaim/thrashing/compaction/wpcopy/irq counters, no maxima.
            s.Version = 6;
            s.AcTgid = null;
        }

        var summary = Summarize(10,
            Task(1, "old", edit: Version14),
            Task(2, "mixed", edit: Version14),
            Task(3, "mixed", edit: s => { s.BlkioCount = 1; s.BlkioDelayTotal = 100; s.BlkioDelayMax = 100; }),
            Task(40, "ancient", edit: Version6));

        var old = summary.ByCommand.Single(g => g.Key == "old");
        Assert.Equal(DelayReading.Categories.Count, old.Delays.Count);
        Assert.All(old.Delays.Values, d => Assert.Null(d.MaxNs));
        Assert.Equal(new DelayFigures(1, 800, null), old.Delays[DelayCategory.BlockIo]);

        // A maximum from the one record that had it: a lower bound for the group, still worth reporting.
        var mixed = summary.ByCommand.Single(g => g.Key == "mixed");
        Assert.Equal(new DelayFigures(2, 900, 100), mixed.Delays[DelayCategory.BlockIo]);

        var ancient = summary.ByCommand.Single(g => g.Key == "ancient");
        Assert.Equal([DelayCategory.Cpu, DelayCategory.BlockIo, DelayCategory.SwapIn], ancient.Delays.Keys.Order());
        // Without ac_tgid the task is its own process.
        Assert.Equal("ancient", summary.ByProcess.Single(g => g.Key == "40").Command);
    }

    [Fact]
    public void Accumulator_should_count_an_exit_once_though_its_process_record_rides_along()
    {
        var process = ExitMessageBuilder.Stats(30, "server");
        process.AcUtime = 900_000;
        process.AcStime = 100_000;
        process.CpuCount = 1_000;
        process.CpuDelayTotal = 9_999_999;
        process.ReadBytes = 1 << 20;

        var summary = Summarize(10,
            Task(31, "server", tgid: 30),
            Task(30, "server", process: process));

        Assert.Equal(2, summary.Exits);
        var server = Assert.Single(summary.ByCommand);
        Assert.Equal(2, server.Exits);
        Assert.Equal(3_000UL, server.CpuTimeUs);
        Assert.Equal(new DelayFigures(6, 60_000, null), server.Delays[DelayCategory.Cpu]);
        Assert.Equal(0UL, server.ReadBytes);
        var group = Assert.Single(summary.ByProcess);
        Assert.Equal(("30", 2L, 3_000UL), (group.Key, group.Exits, group.CpuTimeUs));
    }

    [Fact]
    public void Accumulator_should_skip_a_message_without_a_task_record()
    {
        var process = ExitMessageBuilder.Stats(30, "server");
        var summary = Summarize(10, new TaskstatsMessage(1, null, new TaskstatsRecord(TaskstatsScope.Tgid, 30, process)));

        Assert.Equal(0, summary.Exits);
        Assert.Empty(summary.ByCommand);
        Assert.Empty(summary.ByProcess);
    }

    [Fact]
    public void Accumulator_should_rank_commands_per_delay_category_by_total_and_leave_out_those_without()
    {
        var summary = Summarize(2,
            Task(1, "a", edit: s => { s.CpuDelayTotal = 100; s.BlkioCount = 1; s.BlkioDelayTotal = 7; }),
            Task(2, "b", edit: s => s.CpuDelayTotal = 300),
            Task(3, "c", edit: s => s.CpuDelayTotal = 200),
            Task(4, "a", edit: s => s.CpuDelayTotal = 150),
            Task(5, "d", edit: s => { s.CpuCount = 0; s.CpuDelayTotal = 0; }));

        Assert.Equal(DelayReading.Categories.Order(), summary.TopByDelay.Keys.Order());
        Assert.Equal(["b", "a"], Keys(summary.TopByDelay[DelayCategory.Cpu]));
        Assert.Equal([300UL, 250UL], summary.TopByDelay[DelayCategory.Cpu].Select(g => g.Delays[DelayCategory.Cpu].TotalNs));
        Assert.Equal(["a"], Keys(summary.TopByDelay[DelayCategory.BlockIo]));
        Assert.Empty(summary.TopByDelay[DelayCategory.SwapIn]);
        Assert.Empty(summary.TopByDelay[DelayCategory.Irq]);
    }

    [Fact]
    public void Accumulator_should_count_loss_and_start_each_window_empty()
    {
        var accumulator = new WindowAccumulator(5, T0);
        accumulator.Add(Batch(Task(1, "a"), Task(2, "b")));
        accumulator.AddLoss(5);
        accumulator.AddLoss(3);

        var first = accumulator.Close(T0.AddSeconds(10));
        Assert.Equal((2L, 8L), (first.Exits, first.Lost));

        accumulator.Add(Batch(Task(3, "c")));
        var second = accumulator.Close(T0.AddSeconds(20));
        Assert.Equal((T0.AddSeconds(10), T0.AddSeconds(20)), (second.Start, second.End));
        Assert.Equal((1L, 0L), (second.Exits, second.Lost));
        Assert.Equal(["c"], Keys(second.ByCommand));
        Assert.Equal(["3"], Keys(second.ByProcess));

        var empty = accumulator.Close(T0.AddSeconds(30));
        Assert.Equal(0, empty.Exits);
        Assert.Empty(empty.ByCommand);
        Assert.Empty(empty.ByUser);
        Assert.Empty(empty.ByProcess);
    }

    [Fact]
    public void Accumulator_should_sum_keys_beyond_its_limit_under_other()
    {
        var accumulator = new WindowAccumulator(10, T0, maxKeys: 2);
        accumulator.Add(Batch(Task(1, "a"), Task(2, "b"), Task(3, "c"), Task(4, "d"), Task(5, "e"), Task(6, "a")));
        var summary = accumulator.Close(T0.AddSeconds(1));

        Assert.Equal(6, summary.Exits);
        // a and b came first; c, d and e share the overflow group, which ranks by its exits like any group.
        Assert.Equal([GroupFigures.OtherKey, "a", "b"], Keys(summary.ByCommand));
        Assert.Equal([3L, 2L, 1L], summary.ByCommand.Select(g => g.Exits));
        Assert.Equal([GroupFigures.OtherKey, "1", "2"], Keys(summary.ByProcess));
        Assert.Null(summary.ByProcess[0].Command);
        Assert.Equal(6, summary.ByCommand.Sum(g => g.Exits));
    }

    [Fact]
    public void Accumulator_with_top_zero_should_list_nothing_but_still_count()
    {
        var summary = Summarize(0, Task(1, "a"));
        Assert.Equal(1, summary.Exits);
        Assert.Empty(summary.ByCommand);
        Assert.All(summary.TopByDelay.Values, list => Assert.Empty(list));
    }

    [Fact]
    public void Accumulator_should_refuse_to_end_a_window_before_it_starts()
    {
        var accumulator = new WindowAccumulator(1, T0);
        Assert.Throws<ArgumentOutOfRangeException>(() => accumulator.Close(T0.AddTicks(-1)));
    }
}
