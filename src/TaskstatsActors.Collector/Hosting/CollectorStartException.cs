namespace TaskstatsActors.Collector.Hosting;

/// <summary>The collector could not start; the message says why in one line, for the operator.</summary>
public sealed class CollectorStartException(string message) : Exception(message);
