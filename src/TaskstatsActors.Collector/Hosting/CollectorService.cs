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

    /// <summary>How long the supervisor may take to start its actors.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Waits until the supervisor has started (it answers) or has stopped because it could not start; then
    /// the host fails to start with a <see cref="CollectorStartException"/> instead of waiting for a shutdown.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var collector = await supervisor.GetAsync(cancellationToken);
        // Not cancelled with the host's start: a run shorter than the start-up still starts, then stops.
        // Identify is answered once the supervisor has started, and by dead letters (quietly, with no
        // subject) once it has stopped.
        var stopped = collector.WatchAsync();
        var identified = collector.Ask<ActorIdentity>(new Identify(null), StartTimeout);
        if (await Task.WhenAny(stopped, identified) == identified && (await identified).Subject is not null)
            return;
        throw new CollectorStartException(result.StartProblem ?? "the collector stopped while it started; the log above says why");
    }

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
