using TaskstatsActors.Collector.Events;

namespace TaskstatsActors.Collector.Watchdog;

/// <summary>Messages of <see cref="WatchdogActor"/>.</summary>
public static class WatchdogProtocol
{
    /// <summary>Asks for the per-shard incident and restart counts.</summary>
    public sealed class GetReport
    {
        public static readonly GetReport Instance = new();
        private GetReport() { }
    }

    /// <summary>Per-shard figures as the watchdog saw them.</summary>
    public sealed record Report(IReadOnlyDictionary<int, ShardWatch> Shards);

    /// <summary>One shard: overflow incidents, restarts ordered, the buffer asked for next.</summary>
    public sealed record ShardWatch(ShardInfo Shard, long Incidents, long RestartsOrdered, int RequestedBuffer);

    /// <summary>Timer message: the backoff for a shard is over.</summary>
    internal sealed record RestartDue(int Shard);
}
