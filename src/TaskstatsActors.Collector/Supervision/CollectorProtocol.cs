using TaskstatsActors.Collector.Status;

namespace TaskstatsActors.Collector.Supervision;

/// <summary>Messages of <see cref="CollectorSupervisor"/>.</summary>
public static class CollectorProtocol
{
    /// <summary>Stop gracefully: listeners deregister and drain, the stream drains, sinks flush and close. Answered with <see cref="ShutdownComplete"/>.</summary>
    public sealed class Shutdown
    {
        public static readonly Shutdown Instance = new();
        private Shutdown() { }
    }

    /// <summary>Everything is drained and closed; the final figures.</summary>
    public sealed record ShutdownComplete(CollectorSummary Summary);

    /// <summary>Asks for the figures now; answered with a <see cref="CollectorSummary"/>.</summary>
    public sealed class GetSummary
    {
        public static readonly GetSummary Instance = new();
        private GetSummary() { }
    }

    /// <summary>Timer: publish the figures to the sinks.</summary>
    internal sealed class FiguresTick
    {
        public static readonly FiguresTick Instance = new();
        private FiguresTick() { }
    }

    /// <summary>Timer: print the status line.</summary>
    internal sealed class StatusTick
    {
        public static readonly StatusTick Instance = new();
        private StatusTick() { }
    }
}
