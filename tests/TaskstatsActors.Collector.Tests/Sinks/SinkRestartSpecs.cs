using Akka.Actor;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Sinks;

public sealed class SinkRestartSpecs : SinkSpec
{
    public SinkRestartSpecs(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void A_sink_that_throws_should_be_restarted_and_still_get_the_batch_it_failed_on()
    {
        // Batches 0..5 alternate shards; batch 4 (shard 0's third) is the only one starting at sequence 21.
        var batches = SinkEvents.Exits(batches: 6, perBatch: 10);
        var journal = new FlakySink.Journal(failOnSequence: batches[4].Messages[0].Sequence);
        Assert.Equal(21u, journal.FailOnSequence);
        var sink = Sys.ActorOf(Props.Create(() => new FlakySink(Context("flaky", ""), journal)));

        EventFilter.Exception<IOException>(contains: "disk hiccup").ExpectOne(() => RunToEnd(sink, batches));

        Assert.Equal(1, journal.Thrown);
        Assert.Equal(2, journal.Starts);
        Assert.Equal(7, journal.Seen);  // six batches, the failed one twice
        Assert.Equal(1, journal.Flushes);
        // Every record, in stream order, each once.
        Assert.Equal(Enumerable.Range(1000, 60).Select(i => (uint)i), journal.Written);
    }
}
