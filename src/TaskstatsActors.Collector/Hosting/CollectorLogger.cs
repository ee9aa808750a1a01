using Akka.Actor;
using Akka.DependencyInjection;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TaskstatsActors.Collector.Hosting;

/// <summary>
/// Forwards Akka's log events to Microsoft.Extensions.Logging as plain messages ("listener-1: …"),
/// so that a console or journald shows what happened rather than Akka's own bracketed prefix.
/// </summary>
public sealed class CollectorLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public CollectorLogger()
    {
        var factory = DependencyResolver.For(Context.System).Resolver.GetService<ILoggerFactory>();
        var logger = factory.CreateLogger("TaskstatsActors.Collector");
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            var level = e.LogLevel() switch
            {
                Akka.Event.LogLevel.DebugLevel => Microsoft.Extensions.Logging.LogLevel.Debug,
                Akka.Event.LogLevel.InfoLevel => Microsoft.Extensions.Logging.LogLevel.Information,
                Akka.Event.LogLevel.WarningLevel => Microsoft.Extensions.Logging.LogLevel.Warning,
                _ => Microsoft.Extensions.Logging.LogLevel.Error,
            };
            if (logger.IsEnabled(level))
                logger.Log(level, e.Cause, "{Source}: {Message}", Name(e.LogSource), e.Message);
        });
    }

    // "akka://taskstats/user/collector/listener-1" reads best as "listener-1".
    private static string Name(string source)
    {
        var slash = source.LastIndexOf('/');
        return slash >= 0 ? source[(slash + 1)..] : source;
    }
}
