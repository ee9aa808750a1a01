using Akka.Actor;
using Akka.Event;
using TaskstatsActors.Collector.Events;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// Base class of every sink, built-in or custom. Override the handlers for the events you want;
/// the stream's acknowledgement protocol and backpressure are handled here. A sink is named in
/// HOCON by <c>class = "Namespace.Type, Assembly"</c> and needs a public constructor taking a
/// <see cref="SinkContext"/>.
/// </summary>
/// <remarks>
/// Each event is acknowledged after its handler returns, so a slow handler slows the stream (within
/// the sink's buffer). A handler that throws makes the actor restart, and the event it was handling
/// is handed to the new instance, so nothing buffered for the sink is lost. When the stream ends,
/// <see cref="OnFlush"/> runs, then the actor stops and <see cref="OnStop"/> closes resources.
/// </remarks>
public abstract class TaskstatsSink : UntypedActor
{
    /// <summary>The sink's name and config.</summary>
    protected SinkContext Sink { get; }

    /// <summary>Logging through the actor system (and so through Microsoft.Extensions.Logging when hosted).</summary>
    protected ILoggingAdapter Log { get; } = Context.GetLogger();

    protected TaskstatsSink(SinkContext context) => Sink = context;

    /// <summary>Called once before the first event (and again after a restart): open files, connections.</summary>
    protected virtual void OnStart() { }

    /// <summary>A batch of exit messages from one shard.</summary>
    protected virtual void OnRecords(ExitBatch batch) { }

    /// <summary>Records were lost on a shard.</summary>
    protected virtual void OnLoss(RecordsLost loss) { }

    /// <summary>A window summary from the aggregator.</summary>
    protected virtual void OnWindow(WindowSummary summary) { }

    /// <summary>A listener replaced its socket.</summary>
    protected virtual void OnListenerRestarted(ListenerRestarted restart) { }

    /// <summary>The collector's own figures, every few seconds.</summary>
    protected virtual void OnStatus(CollectorStatus status) { }

    /// <summary>The stream ended: write out anything buffered.</summary>
    protected virtual void OnFlush() { }

    /// <summary>The sink stops (after a flush, or before a restart): close what <see cref="OnStart"/> opened.</summary>
    protected virtual void OnStop() { }

    protected sealed override void PreStart() => OnStart();

    protected sealed override void PostStop() => OnStop();

    protected sealed override void PreRestart(Exception reason, object message)
    {
        // Hand the event that failed to the next instance; the stream is still waiting for its ack.
        if (message is CollectorEvent)
            Self.Tell(message, Sender);
        base.PreRestart(reason, message);
    }

    protected sealed override void OnReceive(object message)
    {
        switch (message)
        {
            case SinkProtocol.Init:
                Sender.Tell(SinkProtocol.Ack.Instance);
                break;
            case CollectorEvent e:
                Dispatch(e);
                Sender.Tell(SinkProtocol.Ack.Instance);
                break;
            case SinkProtocol.Complete:
                OnFlush();
                Context.Stop(Self);
                break;
            case SinkProtocol.Failed failed:
                Log.Error(failed.Cause, "sink {0}: the stream failed; flushing what arrived", Sink.Name);
                OnFlush();
                Context.Stop(Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Dispatch(CollectorEvent e)
    {
        switch (e)
        {
            case ExitBatch batch: OnRecords(batch); break;
            case RecordsLost loss: OnLoss(loss); break;
            case WindowSummary summary: OnWindow(summary); break;
            case ListenerRestarted restart: OnListenerRestarted(restart); break;
            case CollectorStatus status: OnStatus(status); break;
        }
    }
}
