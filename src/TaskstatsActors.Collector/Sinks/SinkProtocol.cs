namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// The messages between the stream and a sink actor (<c>Sink.ActorRefWithAck</c>). Sink authors never
/// see them: <see cref="TaskstatsSink"/> answers them.
/// </summary>
internal static class SinkProtocol
{
    /// <summary>The stream is about to send; answer with <see cref="Ack"/>.</summary>
    public sealed class Init
    {
        public static readonly Init Instance = new();
        private Init() { }
    }

    /// <summary>"Send the next element."</summary>
    public sealed class Ack
    {
        public static readonly Ack Instance = new();
        private Ack() { }
    }

    /// <summary>The stream finished: flush and stop.</summary>
    public sealed class Complete
    {
        public static readonly Complete Instance = new();
        private Complete() { }
    }

    /// <summary>The stream failed upstream: flush what was received and stop.</summary>
    public sealed record Failed(Exception Cause);
}
