using TaskstatsActors.Collector.Supervision;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>Shutdown deregisters every cpumask, drains sockets and stream into the sinks, flushes and closes them, then answers.</summary>
public sealed class ShutdownSpecs : CollectorSpec
{
    public ShutdownSpecs(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void Shutdown_should_drain_every_exit_made_before_it_and_close_every_socket()
    {
        const int perCpu = 80;
        var journal = NewJournal();
        var collector = StartCollector(Settings([0, 1], [journal.Settings("journal", buffer: 4)], batchSize: 2, streamBuffer: 2));

        // Exits made just before the shutdown, while the sink holds the stream: many are still queued in
        // the sockets, some in the stream, when the shutdown is asked for.
        journal.Close();
        var made = new List<ExitKey>();
        for (var i = 0; i < perCpu; i++)
        {
            made.Add(Host.Exit(0));
            made.Add(Host.Exit(1));
        }
        Until(() => journal.Holding, "the sink to hold a batch");
        var queued = Host.Sockets.Sum(s => (long)s.QueuedBytes);
        Note($"{queued} bytes still queued in the sockets when the shutdown was asked for");
        Assert.True(queued > 0);

        collector.Tell(CollectorProtocol.Shutdown.Instance, TestActor);
        journal.Open();
        var summary = ExpectMsg<CollectorProtocol.ShutdownComplete>(Patience).Summary;

        // Everything reached the sink, once, before it flushed; then it stopped, before the answer came.
        Assert.Empty(Repeated(journal.Received));
        Assert.Equal(made.ToHashSet(), journal.Received.ToHashSet());
        Assert.Equal(made.Count, journal.ReceivedAtFlush);
        Assert.Equal(1, journal.Flushes);
        Assert.Equal(1, journal.Stops);
        Assert.Equal(made.Count, summary.Records);
        Assert.Equal(0, summary.Lost);
        Assert.All(Host.Sockets, s => Assert.Equal(0u, s.DropCount));

        // Every socket deregistered its mask, then closed; nobody listens any more.
        var log = Host.Log;
        Assert.Equal(2, Host.Sockets.Count);
        foreach (var socket in Host.Sockets)
        {
            var deregister = Assert.Single(log, e => e.Verb == "deregister" && e.Port == socket.PortId);
            var close = Assert.Single(log, e => e.Verb == "close" && e.Port == socket.PortId);
            Assert.Equal(socket.Mask, deregister.Argument);
            Assert.True(deregister.Position < close.Position);
            Assert.True(socket.Inner.IsClosed);
        }
        Assert.Equal(0, Host.Kernel.ListenerCount(0));
        Assert.Equal(0, Host.Kernel.ListenerCount(1));
    }
}
