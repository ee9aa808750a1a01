using TaskstatsActors.Collector.Listening;
using Xunit;

namespace TaskstatsActors.Collector.Tests.Listening;

/// <summary>When a listener may linger before draining: only while the queue has room for another linger's worth.</summary>
public sealed class LingerSpecs
{
    [Theory]
    [InlineData(0u, 8_388_608)]             // empty: the usual case
    [InlineData(2_097_152u, 8_388_608)]     // exactly a quarter of the buffer
    [InlineData(100u, 400)]
    public void A_queue_at_most_a_quarter_full_should_let_the_next_wake_up_linger(uint queued, int buffer) =>
        Assert.True(ShardReceiver.LingerFits(queued, buffer));

    [Theory]
    [InlineData(2_097_153u, 8_388_608)]     // just past a quarter
    [InlineData(12_000u, 16_384)]           // an 8 KiB buffer (granted 16 KiB) after a 30 ms linger at 20,000 exits/s
    [InlineData(16_384u, 16_384)]           // full
    [InlineData(uint.MaxValue, int.MaxValue)] // no overflow in the arithmetic
    public void A_queue_past_a_quarter_full_should_make_the_next_drain_start_at_once(uint queued, int buffer) =>
        Assert.False(ShardReceiver.LingerFits(queued, buffer));
}
