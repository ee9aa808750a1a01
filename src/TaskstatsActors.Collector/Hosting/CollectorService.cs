using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TaskstatsActors.Collector.Supervision;

namespace TaskstatsActors.Collector.Hosting;

/// <summary>
/// Ties the collector to the host's lifetime: when the host stops (SIGINT, SIGTERM, or the end of a
/// timed run) it asks the supervisor for a graceful shutdown and waits for it, before Akka.Hosting
/// terminates the actor system.
/// </summary>
public sealed class CollectorService(IRequiredActor<CollectorSupervisor> supervisor, CollectorResult result, ILogger<CollectorService> log) : IHostedService
{
    /// <summary>How long draining may take before the host gives up on it.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(60);

    public Task StartAsync(CancellationToken cancellationToken) => supervisor.GetAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var collector = await supervisor.GetAsync(cancellationToken);
        try
        {
            var done = await collector.Ask<CollectorProtocol.ShutdownComplete>(CollectorProtocol.Shutdown.Instance, ShutdownTimeout, cancellationToken);
            result.Summary = done.Summary;
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or OperationCanceledException)
        {
            result.Problem = $"shutdown did not finish within {ShutdownTimeout.TotalSeconds:0} s; the figures below may miss the last records";
            log.LogError("{Problem}", result.Problem);
            result.Summary = await collector.Ask<Status.CollectorSummary>(CollectorProtocol.GetSummary.Instance, TimeSpan.FromSeconds(5), CancellationToken.None);
        }
    }
}
