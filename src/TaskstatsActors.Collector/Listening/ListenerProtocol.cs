using Akka.Actor;
using TaskstatsActors.Collector.Events;

namespace TaskstatsActors.Collector.Listening;

/// <summary>Messages to and from <see cref="ListenerActor"/>.</summary>
public static class ListenerProtocol
{
    /// <summary>From the watchdog: replace the socket, make before break, with a buffer of <paramref name="ReceiveBuffer"/> bytes.</summary>
    public sealed record Replace(int ReceiveBuffer);

    /// <summary>From the supervisor: deregister, drain into the stream, close, then answer <see cref="Stopped"/> and stop.</summary>
    public sealed class Stop
    {
        public static readonly Stop Instance = new();
        private Stop() { }
    }

    /// <summary>The listener drained and closed its socket.</summary>
    public sealed record Stopped(ShardInfo Shard);

    /// <summary>To the watchdog: the socket overflowed.</summary>
    public sealed record Overflowed(ShardInfo Shard, IActorRef Listener, long Lost, int ReceiveBuffer);

    /// <summary>To the watchdog: the socket was replaced.</summary>
    public sealed record Replaced(ShardInfo Shard, int ReceiveBuffer);

    /// <summary>The receive loop ended with a fault; the listener throws it so its supervisor restarts it.</summary>
    internal sealed record LoopFailed(ShardReceiver Loop, Exception Cause);

    /// <summary>The receive loop finished after a stop request.</summary>
    internal sealed record LoopFinished(ShardReceiver Loop);
}

/// <summary>A listener's receive loop failed: its socket faulted or the kernel refused it.</summary>
public sealed class ListenerFaultException(ShardInfo shard, Exception cause)
    : Exception($"{shard}: {cause.Message}", cause);
