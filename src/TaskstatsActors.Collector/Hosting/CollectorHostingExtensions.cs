using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Supervision;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Collector.Hosting;

/// <summary>Registers the collector with a .NET generic host through Akka.Hosting.</summary>
public static class CollectorHostingExtensions
{
    /// <summary>
    /// Adds the actor system with the collector's supervisor (in the <see cref="ActorRegistry"/> as
    /// <see cref="CollectorSupervisor"/>), Akka logging through Microsoft.Extensions.Logging, and the
    /// hosted service that shuts the collector down gracefully when the host stops. The final figures
    /// land in the <see cref="CollectorResult"/> singleton.
    /// </summary>
    public static IServiceCollection AddTaskstatsCollector(this IServiceCollection services, Config config, CollectorSettings settings,
        Func<INetlinkSocket>? openSocket = null)
    {
        var result = new CollectorResult();
        services.AddSingleton(result);
        services.AddAkka("taskstats", builder =>
        {
            // The host decides when to stop: Akka's own exit hook would end the actor system on SIGTERM
            // before the collector has drained.
            builder.AddHocon(config, HoconAddMode.Prepend)
                .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                // Akka's default scheduler wakes up every tick whether anything is due or not; this one only when
                // something is (TimerQueueScheduler). Appended, so a config file can still choose another.
                .AddHocon(TimerQueueScheduler.ConfigLine, HoconAddMode.Append)
                .ConfigureLoggers(loggers =>
                {
                    loggers.ClearLoggers();
                    loggers.AddLogger<CollectorLogger>();
                })
                .WithActors((system, registry) =>
                {
                    var supervisor = system.ActorOf(CollectorSupervisor.Props(settings, openSocket, problem => result.StartProblem = problem), "collector");
                    registry.Register<CollectorSupervisor>(supervisor);
                });
        });
        // Registered after AddAkka, so the host stops it before it terminates the actor system.
        services.AddHostedService<CollectorService>();
        return services;
    }
}
