using Akka.Actor;
using Akka.Event;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Sinks;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Sinks;

/// <summary>A sink refuses a bad block when it is created, naming the key, so the collector cannot start with it.</summary>
public sealed class SinkConfigSpecs : SinkSpec
{
    public SinkConfigSpecs(ITestOutputHelper output) : base(output) { }

    private void AssertRefused(Func<Props> props, string key)
    {
        ConfigException? refused = null;
        IActorRef? sink = null;
        EventFilter.Custom<Error>(e => (refused = Find(e.Cause)) is not null)
            .ExpectOne(() => sink = Sys.ActorOf(props()));
        Assert.Equal(key, refused!.Key);
        Watch(sink!);
        ExpectTerminated(sink!, Patience);
    }

    // The creation failure arrives wrapped (ActorInitializationException, maybe a reflection wrapper).
    private static ConfigException? Find(Exception? e) => e switch
    {
        null => null,
        ConfigException config => config,
        _ => Find(e.InnerException),
    };

    [Fact]
    public void JsonLinesSink_should_refuse_a_block_without_path() =>
        AssertRefused(() => Props.Create(() => new JsonLinesSink(Context("jsonl", "rotate-size = 1 MiB"))), "taskstats.sinks.jsonl.path");

    [Fact]
    public void JsonLinesSink_should_refuse_a_negative_keep() =>
        AssertRefused(() => Props.Create(() => new JsonLinesSink(Context("jsonl", "path = x.jsonl\nkeep = -1"))), "taskstats.sinks.jsonl.keep");

    [Fact]
    public void RawSink_should_refuse_a_block_without_path() =>
        AssertRefused(() => Props.Create(() => new RawSink(Context("raw", ""))), "taskstats.sinks.raw.path");

    [Fact]
    public void ConsoleSink_should_refuse_an_unknown_target() =>
        AssertRefused(() => Props.Create(() => new ConsoleSink(Context("console", "target = printer"))), "taskstats.sinks.console.target");
}
