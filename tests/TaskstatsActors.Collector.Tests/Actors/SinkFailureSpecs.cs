using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>A sink whose handler throws is restarted and handed the failed batch again; nothing buffered for it is lost.</summary>
public sealed class SinkFailureSpecs : CollectorSpec
{
    public SinkFailureSpecs(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void A_sink_that_throws_should_be_restarted_without_losing_what_was_buffered_for_it()
    {
        var journal = NewJournal();
        journal.FailOn = batch => batch.Messages.Any(m => m.Sequence == 10);
        var collector = StartCollector(Settings([0], [journal.Settings("flaky", buffer: 16)], batchSize: 4));
        var socket = Host.Sockets.Single();

        // The sink holds its first batch while sixty exits fill its buffer, the stream and the socket;
        // then it goes on and fails on the batch holding #10 with more batches queued behind it.
        journal.Close();
        var made = Host.Exit(0, 60);
        Until(() => journal.Holding, "the sink to hold a batch");
        journal.Open();
        WaitForReceived(journal, made.Count);
        var summary = ShutDown(collector);

        Assert.Equal(1, journal.Thrown);
        Assert.Equal(2, journal.Starts);             // the first instance and the restarted one
        Assert.Equal(journal.Batches + 1, journal.Attempts); // the failed batch was handed over again
        Assert.True(journal.Batches > 3);
        Assert.Equal(made, journal.Received);        // all sixty, each once, in order, the failing batch included
        Assert.Equal(0u, socket.DropCount);
        Assert.Equal(0, summary.Lost);
        Assert.Equal(made.Count, summary.Records);
        Assert.Equal(1, journal.Flushes);
    }
}
