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

        Assert.Equal(6, tracker.Explain(10, countedAsLoss: true));
        Assert.Equal(3, tracker.Explain(3, countedAsLoss: true));
        Assert.Equal(0, tracker.CountedAhead);
    }

    [Fact]
    public void Drops_whose_gap_showed_before_the_counter_reported_them_should_leave_no_credit_behind()
    {
        // While a socket stays full the kernel reports ENOBUFS once: one drain receives past 5 more drops
        // before the counter is read at its end.
        var tracker = new SequenceTracker(shardCpus: 1, onlineCpus: 1);
        tracker.Observe(100);
        Assert.Equal(5, tracker.Explain(tracker.Observe(106), countedAsLoss: false));
        tracker.CountedByDropCounter(5);

        Assert.Equal(0, tracker.CountedAhead);
        // A fault restart later: its gap of 20 is all new loss, none of it paid by those 5 drops.
        Assert.Equal(20, tracker.Explain(tracker.Observe(127), countedAsLoss: true));
    }

    [Fact]
    public void Drops_reported_before_their_gap_should_pay_for_it_when_it_shows()
    {
        var tracker = new SequenceTracker(shardCpus: 1, onlineCpus: 1);
        tracker.Observe(100);
        tracker.CountedByDropCounter(5);

        Assert.Equal(0, tracker.Explain(tracker.Observe(106), countedAsLoss: false));
        tracker.CountedByDropCounter(0);
        Assert.Equal(0, tracker.CountedAhead);
        Assert.Equal(20, tracker.Explain(tracker.Observe(127), countedAsLoss: true));
    }

    [Fact]
    public void A_gap_the_next_counter_reading_does_not_explain_should_not_absorb_later_drops()
    {
        // A stray number's gap on a one-CPU shard: no drop behind it, so the next reading reports none.
        var tracker = new SequenceTracker(shardCpus: 1, onlineCpus: 1);
        tracker.Observe(100);
        tracker.Explain(tracker.Observe(102), countedAsLoss: false);
        tracker.CountedByDropCounter(0);

        tracker.CountedByDropCounter(3);
        Assert.Equal(3, tracker.CountedAhead);
        Assert.Equal(0, tracker.Explain(tracker.Observe(106), countedAsLoss: false));
    }

    [Fact]
    public void A_gap_counted_as_loss_after_a_fault_should_not_be_settled_again_by_the_new_sockets_drops()
    {
        var tracker = new SequenceTracker(shardCpus: 1, onlineCpus: 1);
        tracker.Observe(100);
        Assert.Equal(9, tracker.Explain(tracker.Observe(110), countedAsLoss: true));

        // The new socket's own drops, read before their gap shows: credit for that gap, not for the old one.
        tracker.CountedByDropCounter(4);
        Assert.Equal(4, tracker.CountedAhead);
        Assert.Equal(0, tracker.Explain(tracker.Observe(115), countedAsLoss: false));
    }

    [Fact]
    public void Between_equally_busy_counters_the_one_started_first_should_be_the_shards_own()
    {
        var tracker = new SequenceTracker(shardCpus: 1, onlineCpus: 2);
        foreach (var sequence in new uint[] { 5000, 5005, 100 })
            tracker.Observe(sequence);

        // 100 and 110 are a stray counter's, seen as often as the first: its gap is no loss, neither in what
        // Observe returns (which a fault restart counts as lost) nor in Gaps.
        Assert.Equal(0, tracker.Observe(110));
        Assert.Equal(4, tracker.Gaps); // 5001-5004

        tracker.Observe(111);
        Assert.Equal(9, tracker.Gaps); // now the second counter is the busier one: 101-109
    }

    [Fact]
    public void Reading_the_gaps_should_not_allocate()
    {
        // Read after every batch the listener receives, on the hot path.
        var tracker = new SequenceTracker(shardCpus: 2, onlineCpus: 8);
        // Two counters (10.., 900..) and a stray one (5, 7) that is seen less often.
        foreach (var sequence in new uint[] { 10, 900, 11, 903, 5, 14, 904, 7 })
            tracker.Observe(sequence);
        _ = tracker.Gaps;

        var before = GC.GetAllocatedBytesForCurrentThread();
        long sum = 0;
        for (var i = 0; i < 100; i++)
            sum += tracker.Gaps;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(400, sum); // 12-13 and 901-902 on the two busiest counters; not the stray's 6
    }
}
