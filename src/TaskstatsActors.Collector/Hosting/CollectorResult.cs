using TaskstatsActors.Collector.Status;

namespace TaskstatsActors.Collector.Hosting;

/// <summary>Where the hosted collector leaves its final figures once it has shut down.</summary>
public sealed class CollectorResult
{
    /// <summary>The final summary; null until shutdown finished (or when it timed out).</summary>
    public CollectorSummary? Summary { get; internal set; }

    /// <summary>Why shutdown did not complete cleanly, if it did not.</summary>
    public string? Problem { get; internal set; }

    /// <summary>Why the collector could not start, if it could not (one line, for the operator).</summary>
    public string? StartProblem { get; internal set; }
}
