using TaskstatsActors.Collector.Sinks;

namespace TaskstatsActors.Collector.Tests.Settings;

/// <summary>A sink that does nothing, for settings tests that need a loadable class.</summary>
public sealed class NullTestSink(SinkContext context) : TaskstatsSink(context);

/// <summary>Not a sink: a plain class.</summary>
public sealed class NotASink
{
    public NotASink(SinkContext context) => _ = context;
}

/// <summary>A sink without the constructor the collector calls.</summary>
public sealed class SinkWithoutContextConstructor : TaskstatsSink
{
    public SinkWithoutContextConstructor() : base(new SinkContext("x", Akka.Configuration.Config.Empty, [])) { }
}

/// <summary>A sink the collector cannot create.</summary>
public abstract class AbstractTestSink(SinkContext context) : TaskstatsSink(context);
