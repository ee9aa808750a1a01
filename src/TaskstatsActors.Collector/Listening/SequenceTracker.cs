namespace TaskstatsActors.Collector.Listening;

/// <summary>
/// Follows the kernel's per-CPU sequence numbers of one shard's exit messages and counts the gaps.
/// A shard of one CPU sees mostly one counter, so a gap there is an exact count of lost messages. A
/// wider shard sees several counters interleaved; each message is credited to the counter it most
/// plausibly continues (the one whose last value is just below it).
/// </summary>
/// <remarks>
/// The kernel picks the listeners of the CPU a task exits on and then numbers the message from the
/// counter of the CPU it runs on a moment later; a task that migrates in between brings another CPU's
/// number to this shard. So the tracker keeps room for every online CPU's counter, and counts gaps
/// only on the busiest tracks (as many as the shard has CPUs): the stray numbers land on tracks of
/// their own and their wide spacing is not mistaken for loss.
/// </remarks>
public sealed class SequenceTracker
{
    private readonly uint[] _last;
    private readonly long[] _seen;
    private readonly long[] _gaps;
    private readonly int _ownCounters;
    // Scratch for Gaps: the tracks in order of how busy they are. Gaps is read after every batch, so it
    // must not allocate; _busierFirst is the one delegate it sorts with.
    private readonly int[] _byBusiest;
    private readonly Comparison<int> _busierFirst;

    // Further ahead than any loss burst a socket can hold: a number from another CPU's counter.
    private const uint FarAhead = 1u << 20;
    private int _tracks;

    /// <summary>A tracker for a shard of <paramref name="shardCpus"/> CPUs on a host of <paramref name="onlineCpus"/>.</summary>
    public SequenceTracker(int shardCpus, int onlineCpus)
    {
        _ownCounters = Math.Max(1, shardCpus);
        var tracks = Math.Max(_ownCounters, onlineCpus);
        _last = new uint[tracks];
        _seen = new long[tracks];
        _gaps = new long[tracks];
        _byBusiest = new int[tracks];
        _busierFirst = BusierFirst;
    }

    /// <summary>Gaps counted so far on the shard's own counters (messages the numbers say never arrived).</summary>
    public long Gaps
    {
        get
        {
            long total = 0;
            if (_tracks <= _ownCounters)
            {
                for (var i = 0; i < _tracks; i++)
                    total += _gaps[i];
                return total;
            }
            var order = _byBusiest.AsSpan(0, _tracks);
            for (var i = 0; i < order.Length; i++)
                order[i] = i;
            order.Sort(_busierFirst);
            foreach (var track in order[.._ownCounters])
                total += _gaps[track];
            return total;
        }
    }

    /// <summary>Messages seen so far.</summary>
    public long Seen { get; private set; }

    /// <summary>Drops a socket's drop counter has reported that no gap has shown yet.</summary>
    public long CountedAhead { get; private set; }

    // Gaps that showed before the drop counter reported their drops: while a socket stays full the kernel
    // reports ENOBUFS once, so one drain can receive past drops that the counter is read for only at its end.
    private long _seenAhead;

    /// <summary>
    /// A drop counter reported <paramref name="drops"/> lost messages. Those whose gap has shown since the
    /// counter's last reading are settled; the gap of the rest will show later.
    /// </summary>
    /// <remarks>
    /// A dropped message's gap can only show after the drop (the message behind it is queued later), and the
    /// counter is read after every drain, so a gap seen ahead of its drops always meets them at the next
    /// reading. What is left of it then was no drop at all (a stray number), and is forgotten.
    /// </remarks>
    public void CountedByDropCounter(long drops)
    {
        var settled = Math.Min(drops, _seenAhead);
        _seenAhead = 0;
        CountedAhead += drops - settled;
    }

    /// <summary>
    /// The part of <paramref name="gap"/> that no drop counter has reported. After a fault restart
    /// the gap spans both the drops already counted and the exits nobody heard; only these are new.
    /// </summary>
    /// <param name="gap">A gap <see cref="Observe"/> returned.</param>
    /// <param name="countedAsLoss">
    /// Whether the caller counts the unexplained part as loss itself (after a fault restart). If not, that
    /// part waits for the drop counter's next reading, which will count it.
    /// </param>
    public long Explain(long gap, bool countedAsLoss)
    {
        var paid = Math.Min(gap, CountedAhead);
        CountedAhead -= paid;
        var unexplained = gap - paid;
        if (!countedAsLoss)
            _seenAhead += unexplained;
        return unexplained;
    }

    /// <summary>
    /// Records one message's sequence number; returns the gap before it on its counter when that is one
    /// of the shard's own counters (0 when it follows on directly, starts a counter, or is a stray).
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
            if (distance != 0 && distance < bestDistance && distance <= FarAhead)
            {
                best = i;
                bestDistance = distance;
            }
        }
        // A value that continues no counter, while some counter of the shard's own CPUs is still unseen
        // (or one that is behind or far ahead of all, while there is room for a stray): a counter of its own.
        var startsCounter = best < 0 ? _tracks < _last.Length : bestDistance != 1 && _tracks < _ownCounters;
        if (startsCounter)
        {
            _last[_tracks] = sequence;
            _seen[_tracks++] = 1;
            return 0;
        }
        if (best < 0)
            return 0; // nothing to learn from it
        _last[best] = sequence;
        _seen[best]++;
        var gap = (long)bestDistance - 1;
        _gaps[best] += gap;
        return IsOwn(best) ? gap : 0;
    }

    // In the order Gaps sums the tracks in, so that a gap Observe returns is one Gaps counts.
    private bool IsOwn(int track)
    {
        var ahead = 0;
        for (var i = 0; i < _tracks; i++)
        {
            if (i != track && BusierFirst(i, track) < 0)
                ahead++;
        }
        return ahead < _ownCounters;
    }

    // The shard's own counters are the busiest tracks; between equally busy ones, the one started first.
    private int BusierFirst(int a, int b) => _seen[a] != _seen[b] ? _seen[b].CompareTo(_seen[a]) : a.CompareTo(b);
}
