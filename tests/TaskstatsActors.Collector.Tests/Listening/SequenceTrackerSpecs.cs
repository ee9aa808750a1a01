using TaskstatsActors.Collector.Listening;

namespace TaskstatsActors.Collector.Tests.Listening;

public sealed class SequenceTrackerSpecs
{
    [Fact]
    public void A_one_cpu_shard_should_count_each_gap_exactly()
    {
        var tracker = new SequenceTracker(shardCpus: 1, onlineCpus: 2);

        Assert.Equal(0, tracker.Observe(100));
        Assert.Equal(0, tracker.Observe(101));
        Assert.Equal(9, tracker.Observe(111));
        Assert.Equal(0, tracker.Observe(112));

        Assert.Equal(9, tracker.Gaps);
    }

    [Fact]
    public void A_number_from_another_cpus_counter_should_not_count_as_loss()
    {
        // A task that migrated between choosing the listeners and taking its number brings CPU 1's number.
        var tracker = new SequenceTracker(shardCpus: 1, onlineCpus: 2);
        tracker.Observe(5000);
        tracker.Observe(5001);

        Assert.Equal(0, tracker.Observe(1200));   // behind: a stray counter of its own
        Assert.Equal(0, tracker.Observe(5002));
        Assert.Equal(0, tracker.Observe(1350));   // the stray counter's wide spacing is not loss
        Assert.Equal(0, tracker.Observe(5003));

        Assert.Equal(0, tracker.Gaps);
    }

    [Fact]
    public void A_wider_shard_should_follow_interleaved_counters()
    {
        var tracker = new SequenceTracker(shardCpus: 2, onlineCpus: 2);
        foreach (var sequence in new uint[] { 1311, 1312, 786, 1313, 787, 790, 1314 })
            tracker.Observe(sequence);

        Assert.Equal(2, tracker.Gaps); // 788 and 789
    }

    [Fact]
    public void Gaps_already_counted_by_a_drop_counter_should_not_count_again()
    {
        var tracker = new SequenceTracker(shardCpus: 1, onlineCpus: 1);
        tracker.CountedByDropCounter(4);

        Assert.Equal(6, tracker.Explain(10));
        Assert.Equal(3, tracker.Explain(3));
        Assert.Equal(0, tracker.CountedAhead);
    }
}
