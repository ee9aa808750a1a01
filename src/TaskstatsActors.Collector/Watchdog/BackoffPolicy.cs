namespace TaskstatsActors.Collector.Watchdog;

/// <summary>
/// Exponential backoff between restarts of one shard: the first restart after a quiet spell waits
/// <c>min</c>, each further one in a row twice as long, up to <c>max</c>.
/// </summary>
public sealed class BackoffPolicy(TimeSpan min, TimeSpan max, TimeSpan resetAfter)
{
    private int _streak;
    private DateTimeOffset _last = DateTimeOffset.MinValue;

    /// <summary>The wait before the restart for an overflow seen at <paramref name="now"/>.</summary>
    public TimeSpan Next(DateTimeOffset now)
    {
        if (now - _last > resetAfter)
            _streak = 0;
        _last = now;
        var factor = Math.Pow(2, Math.Min(_streak++, 30));
        var wait = TimeSpan.FromTicks((long)Math.Min(min.Ticks * factor, max.Ticks));
        return wait < min ? min : wait;
    }
}
