using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Sinks;

/// <summary>
/// Runs sink actors the way the collector does: behind <c>Sink.ActorRefWithAck</c> at the end of a real
/// stream, which completes after the last event, so the sink flushes and stops. Each spec gets its own
/// temporary directory.
/// </summary>
public abstract class SinkSpec : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>Generous: a loaded CI machine is slow, and a passing run never waits this long.</summary>
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    protected SinkSpec(ITestOutputHelper output) : base(Config.Empty, null, output)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("taskstats-sink-specs-").FullName;
    }

    /// <summary>This spec's own directory, deleted afterwards.</summary>
    protected string Directory { get; }

    protected string PathOf(string name) => Path.Combine(Directory, name);

    protected static SinkContext Context(string name, string hocon) =>
        new(name, ConfigurationFactory.ParseString(hocon), SinkEvents.Shards);

    /// <summary>Streams <paramref name="events"/> into <paramref name="sink"/> and waits until the sink has flushed and stopped.</summary>
    protected void RunToEnd(IActorRef sink, IEnumerable<CollectorEvent> events)
    {
        Watch(sink);
        Source.From(events).RunWith(
            Sink.ActorRefWithAck<CollectorEvent>(
                sink,
                SinkProtocol.Init.Instance,
                SinkProtocol.Ack.Instance,
                SinkProtocol.Complete.Instance,
                ex => new SinkProtocol.Failed(ex)),
            Sys.Materializer());
        ExpectTerminated(sink, Patience);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && System.IO.Directory.Exists(Directory))
            System.IO.Directory.Delete(Directory, recursive: true);
    }
}
