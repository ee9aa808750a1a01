using TaskstatsActors.Collector.Listening;

namespace TaskstatsActors.Collector.Tests.Listening;

/// <summary>
/// How long a listener lingers before draining: as configured while the queue has room, shorter when it fills
/// fast, longer (up to quiet-linger) when exits arrive too slowly to make a quarter batch.
/// </summary>
public sealed class LingerSpecs
{
    private static readonly TimeSpan Configured = TimeSpan.FromMilliseconds(30);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(100);
    private const int DefaultBuffer = 8 << 20;  // 4 MiB asked for, granted twice that
    private const int TinyBuffer = 16 << 10;    // 8 KiB asked for
    private const int BatchSize = 1024;         // a quarter batch: 256 messages

    // The batch-linger rule alone (no messages counted, so quiet-linger has nothing to go on).
    private static TimeSpan Next(uint queuedBytes, TimeSpan sinceLastDrain, int receiveBuffer, TimeSpan configured) =>
        ShardReceiver.NextLinger(queuedBytes, 0, sinceLastDrain, receiveBuffer, new ListenerOptions(receiveBuffer, BatchSize, Linger: configured, QuietLinger: Quiet));

    private static TimeSpan AfterDrain(int drained, double sinceLastDrainMs, uint queuedBytes = 0, int receiveBuffer = DefaultBuffer, TimeSpan? quiet = null) =>
        ShardReceiver.NextLinger(queuedBytes, drained, TimeSpan.FromMilliseconds(sinceLastDrainMs), receiveBuffer,
            new ListenerOptions(receiveBuffer, BatchSize, Linger: Configured, QuietLinger: quiet ?? Quiet));

    [Fact]
    public void An_empty_queue_should_keep_the_configured_linger() =>
        Assert.Equal(Configured, Next(0, TimeSpan.FromMilliseconds(30), DefaultBuffer, Configured));

    [Fact]
    public void The_default_buffer_at_this_machines_top_rate_should_keep_the_configured_linger()
    {
        // 45,000 exits/s of ~1.3 KB (the kernel's accounting) for 30 ms: ~1.75 MB, under a quarter of 8 MiB.
        var linger = Next(1_750_000, TimeSpan.FromMilliseconds(30), DefaultBuffer, Configured);

        Assert.Equal(Configured, linger);
    }

    [Fact]
    public void A_queue_filling_faster_should_shorten_the_linger_to_what_fills_a_quarter()
    {
        // 4 MiB arrived in 30 ms: a quarter (2 MiB) takes 15 ms at that rate.
        var linger = Next(4 << 20, TimeSpan.FromMilliseconds(30), DefaultBuffer, Configured);

        Assert.Equal(15.0, linger.TotalMilliseconds, 3);
    }

    [Fact]
    public void A_tiny_buffer_should_settle_to_a_linger_far_below_the_time_it_takes_to_overflow()
    {
        // 20,000 exits/s of ~1.3 KB: 26 MB/s; a 16 KiB buffer overflows in ~0.6 ms. Each drain sees the queue
        // full (it saturates), so the estimate shrinks the linger by 4× a drain until the queue stops filling up.
        const double bytesPerSecond = 26_000_000;
        var linger = Configured;
        for (var drain = 0; drain < 10; drain++)
        {
            var elapsed = linger + TimeSpan.FromMilliseconds(0.05); // the wait plus the loop's own work
            var queued = (uint)Math.Min(TinyBuffer, bytesPerSecond * elapsed.TotalSeconds);
            linger = Next(queued, elapsed, TinyBuffer, Configured);
        }

        Assert.True(linger < TimeSpan.FromMilliseconds(0.2), $"settled at {linger.TotalMilliseconds} ms");
    }

    [Fact]
    public void A_quieter_queue_should_let_the_linger_grow_back_to_the_configured_one()
    {
        var linger = Next(1_000, TimeSpan.FromMilliseconds(1), DefaultBuffer, Configured);

        Assert.Equal(Configured, linger);
    }

    [Fact]
    public void Linger_off_should_stay_off() =>
        Assert.Equal(TimeSpan.Zero, Next(1_000, TimeSpan.FromMilliseconds(1), DefaultBuffer, TimeSpan.Zero));

    [Fact]
    public void Slow_exits_should_lengthen_the_linger_to_gather_a_quarter_batch()
    {
        // 2,500 exits/s on a shard: 75 in 30 ms; a quarter batch (256) takes ~102 ms, so the wait is capped at 100 ms.
        Assert.Equal(Quiet, AfterDrain(75, 30));
        // 5,000/s: 150 in 30 ms; 256 take 51.2 ms.
        Assert.Equal(51.2, AfterDrain(150, 30).TotalMilliseconds, 3);
    }

    [Fact]
    public void Exits_that_make_a_quarter_batch_within_batch_linger_should_keep_it()
    {
        // 10,000 exits/s on a shard (20,000/s on this machine): 300 in 30 ms, more than a quarter batch.
        Assert.Equal(Configured, AfterDrain(300, 30));
        Assert.Equal(Configured, AfterDrain(BatchSize, 30));
    }

    [Fact]
    public void A_lone_exit_on_an_idle_host_should_wait_quiet_linger_at_most() =>
        Assert.Equal(Quiet, AfterDrain(1, 5_000));

    [Fact]
    public void A_filling_buffer_should_cut_short_even_a_lengthened_linger()
    {
        // Few messages, but large in the buffer's terms: 75 of them filled 8 KiB of a 16 KiB buffer in 30 ms, so a
        // quarter (4 KiB) fills in 15 ms.
        Assert.Equal(15.0, AfterDrain(75, 30, queuedBytes: 8 << 10, receiveBuffer: TinyBuffer).TotalMilliseconds, 3);
    }

    [Fact]
    public void Quiet_linger_off_or_not_above_batch_linger_should_keep_batch_linger()
    {
        Assert.Equal(Configured, AfterDrain(75, 30, quiet: TimeSpan.Zero));
        Assert.Equal(Configured, AfterDrain(75, 30, quiet: Configured));
    }
}
