using TaskstatsActors.Collector.Listening;

namespace TaskstatsActors.Collector.Tests.Listening;

/// <summary>How long a listener lingers before draining: as configured while the queue has room, shorter when it fills fast.</summary>
public sealed class LingerSpecs
{
    private static readonly TimeSpan Configured = TimeSpan.FromMilliseconds(30);
    private const int DefaultBuffer = 8 << 20;  // 4 MiB asked for, granted twice that
    private const int TinyBuffer = 16 << 10;    // 8 KiB asked for

    [Fact]
    public void An_empty_queue_should_keep_the_configured_linger() =>
        Assert.Equal(Configured, ShardReceiver.NextLinger(0, TimeSpan.FromMilliseconds(30), DefaultBuffer, Configured));

    [Fact]
    public void The_default_buffer_at_this_machines_top_rate_should_keep_the_configured_linger()
    {
        // 45,000 exits/s of ~1.3 KB (the kernel's accounting) for 30 ms: ~1.75 MB, under a quarter of 8 MiB.
        var linger = ShardReceiver.NextLinger(1_750_000, TimeSpan.FromMilliseconds(30), DefaultBuffer, Configured);

        Assert.Equal(Configured, linger);
    }

    [Fact]
    public void A_queue_filling_faster_should_shorten_the_linger_to_what_fills_a_quarter()
    {
        // 4 MiB arrived in 30 ms: a quarter (2 MiB) takes 15 ms at that rate.
        var linger = ShardReceiver.NextLinger(4 << 20, TimeSpan.FromMilliseconds(30), DefaultBuffer, Configured);

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
            linger = ShardReceiver.NextLinger(queued, elapsed, TinyBuffer, Configured);
        }

        Assert.True(linger < TimeSpan.FromMilliseconds(0.2), $"settled at {linger.TotalMilliseconds} ms");
    }

    [Fact]
    public void A_quieter_queue_should_let_the_linger_grow_back_to_the_configured_one()
    {
        var linger = ShardReceiver.NextLinger(1_000, TimeSpan.FromMilliseconds(1), DefaultBuffer, Configured);

        Assert.Equal(Configured, linger);
    }

    [Fact]
    public void Linger_off_should_stay_off() =>
        Assert.Equal(TimeSpan.Zero, ShardReceiver.NextLinger(1_000, TimeSpan.FromMilliseconds(1), DefaultBuffer, TimeSpan.Zero));
}
