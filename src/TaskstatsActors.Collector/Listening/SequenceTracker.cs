namespace TaskstatsActors.Collector.Listening;

/// <summary>
/// Follows the kernel's per-CPU sequence numbers of one shard's exit messages and counts the gaps.
/// A shard of one CPU sees one counter, so a gap is an exact count of lost messages. A wider shard
/// sees several counters interleaved; each message is credited to the counter it most plausibly
/// continues (the one whose last value is just below it), which is exact unless two CPUs' counters
/// come within a loss burst of each other.
/// </summary>
public sealed class SequenceTracker
{
    private readonly uint[] _last;
    private int _tracks;

    /// <summary>Gaps counted so far (messages the sequence numbers say never arrived).</summary>
    public long Gaps { get; private set; }

    /// <summary>Messages seen so far.</summary>
    public long Seen { get; private set; }

    /// <summary>Drops a socket's drop counter has reported that no gap has shown yet.</summary>
    public long CountedAhead { get; private set; }

    /// <summary>A drop counter reported <paramref name="drops"/> lost messages; their gap will show later.</summary>
    public void CountedByDropCounter(long drops) => CountedAhead += drops;

    /// <summary>
    /// The part of <paramref name="gap"/> that no drop counter has reported. After a fault restart
    /// the gap spans both the drops already counted and the exits nobody heard; only these are new.
    /// </summary>
    public long Explain(long gap)
    {
        var paid = Math.Min(gap, CountedAhead);
        CountedAhead -= paid;
        return gap - paid;
    }

    /// <summary>A tracker for a shard of <paramref name="cpuCount"/> CPUs (so as many counters).</summary>
    public SequenceTracker(int cpuCount)
    {
        _last = new uint[Math.Max(1, cpuCount)];
    }

    /// <summary>
    /// Records one message's sequence number; returns the gap before it on its counter (0 when it
    /// follows on directly or starts a counter not seen before).
    /// </summary>
    public long Observe(uint sequence)
    {
        Seen++;
        var best = -1;
        var bestDistance = uint.MaxValue;
        for (var i = 0; i < _tracks; i++)
        {
            // Unsigned distance: wraps correctly at 2^32; values behind a counter come out huge.
            var distance = unchecked(sequence - _last[i]);
            if (distance != 0 && distance < bestDistance && distance < int.MaxValue)
            {
                best = i;
                bestDistance = distance;
            }
        }
        if (bestDistance != 1 && _tracks < _last.Length)
        {
            // Not the next of any known counter while some CPU's counter is still unseen: start it.
            _last[_tracks++] = sequence;
            return 0;
        }
        if (best < 0)
            return 0; // behind every counter: nothing to learn from it
        _last[best] = sequence;
        var gap = (long)bestDistance - 1;
        Gaps += gap;
        return gap;
    }
}
