using System.Globalization;
using System.Runtime.InteropServices;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Aggregation;

/// <summary>
/// Sums exit records over one time window per command name, uid and tgid, and closes the window into a
/// <see cref="WindowSummaryData"/>. Pure and single-threaded: the aggregator actor owns one.
/// </summary>
/// <remarks>
/// Memory: one entry per distinct key seen in the current window, in each of the three groupings, and at
/// most <c>maxKeys</c> per grouping (keys beyond it are summed under <see cref="GroupFigures.OtherKey"/>).
/// Entries are released when the window closes; the tables keep their bucket arrays for the next window.
/// <see cref="Add(ExitBatch)"/> allocates only when a key is new in the window.
/// </remarks>
public sealed class WindowAccumulator
{
    /// <summary>The default limit on keys per grouping in one window.</summary>
    /// <remarks>
    /// At the fastest exit rates measured here (~80k/s) a 10 s window sees ~800k distinct tgids; a group costs
    /// some 400 bytes, so the limit keeps a grouping to about 4 MB (at 50,000 it was a fifth of the collector's
    /// peak memory). Commands and uids stay far below it on real hosts; the processes past it share one group.
    /// </remarks>
    public const int DefaultMaxKeys = 10_000;

    /// <summary>Key used for a record without <c>ac_comm</c> (struct version 1).</summary>
    public const string UnknownCommand = "(unknown)";

    private static readonly DelayCategory[] Categories = [.. DelayReading.Categories];

    private readonly int _top;
    private readonly Table<string> _byCommand;
    private readonly Table<uint> _byUser;
    private readonly Table<uint> _byProcess;
    // The current record's delay readings, read once and added to three groups.
    private readonly DelayReading[] _readings = new DelayReading[Categories.Length];
    private long _exits;
    private long _lost;

    /// <summary>Starts the first window.</summary>
    /// <param name="top">How many groups each top-N list keeps.</param>
    /// <param name="start">When the first window starts.</param>
    /// <param name="maxKeys">Most distinct keys per grouping in one window.</param>
    public WindowAccumulator(int top, DateTimeOffset start, int maxKeys = DefaultMaxKeys)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(top);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKeys, 1);
        _top = top;
        Start = start;
        _byCommand = new Table<string>(maxKeys, StringComparer.Ordinal, static k => k);
        _byUser = new Table<uint>(maxKeys, Comparer<uint>.Default, static k => k.ToString(CultureInfo.InvariantCulture));
        _byProcess = new Table<uint>(maxKeys, Comparer<uint>.Default, static k => k.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>When the current window started.</summary>
    public DateTimeOffset Start { get; private set; }

    /// <summary>Exits counted in the current window so far.</summary>
    public long Exits => _exits;

    /// <summary>Adds every exit of a batch.</summary>
    public void Add(ExitBatch batch)
    {
        var messages = batch.Messages;
        // Indexing, not foreach: an interface enumerator would be boxed for every batch.
        for (var i = 0; i < messages.Count; i++)
            Add(messages[i]);
    }

    /// <summary>Adds one exit message, counted once through its task record.</summary>
    /// <remarks>
    /// A message without a task record is not an exit notice and is skipped. The process record is not
    /// added: its figures are the sum of the process's threads, each already counted at its own exit.
    /// </remarks>
    public void Add(TaskstatsMessage message)
    {
        if (message.Task is not { } task)
            return;
        // Read the record once; the figures go to three groups.
        var stats = task.Stats;
        for (var c = 0; c < _readings.Length; c++)
            _readings[c] = DelayReading.Of(stats, Categories[c]);
        // Fields the record's struct version lacks (null) add nothing.
        var record = new RecordFigures((stats.AcUtime ?? 0) + (stats.AcStime ?? 0), stats.ReadBytes ?? 0, stats.WriteBytes ?? 0, _readings);

        _exits++;
        _byCommand.For(stats.AcComm ?? UnknownCommand).Add(record);
        if (stats.AcUid is { } uid)
            _byUser.For(uid).Add(record);
        // ac_tgid arrived in version 12; before it a task is taken as its own process.
        var pid = stats.AcPid ?? task.Id;
        var tgid = stats.AcTgid ?? pid;
        var process = _byProcess.For(tgid);
        process.Add(record);
        // Name the process after its leader; threads may carry names of their own.
        if (process.Command is null || pid == tgid)
            process.Command = stats.AcComm;
    }

    /// <summary>Adds exit messages reported lost in this window.</summary>
    public void AddLoss(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        _lost += count;
    }

    /// <summary>Closes the current window at <paramref name="end"/>, returns its summary and starts the next window there.</summary>
    public WindowSummaryData Close(DateTimeOffset end)
    {
        if (end < Start)
            throw new ArgumentOutOfRangeException(nameof(end), end, $"a window cannot end before it starts ({Start:O})");

        var topByDelay = new Dictionary<DelayCategory, IReadOnlyList<GroupFigures>>(Categories.Length);
        for (var c = 0; c < Categories.Length; c++)
            topByDelay[Categories[c]] = _byCommand.TopByDelay(c, _top);

        var summary = new WindowSummaryData(
            Start,
            end,
            _exits,
            _lost,
            _byCommand.TopByExits(_top),
            _byUser.TopByExits(_top),
            _byProcess.TopByExits(_top, withCommand: true),
            topByDelay);

        _byCommand.Clear();
        _byUser.Clear();
        _byProcess.Clear();
        _exits = 0;
        _lost = 0;
        Start = end;
        return summary;
    }

    /// <summary>The running sums of one group.</summary>
    private sealed class Figures
    {
        public long Exits;
        public ulong CpuTimeUs;
        public ulong ReadBytes;
        public ulong WriteBytes;
        public string? Command;
        public readonly DelaySum[] Delays = new DelaySum[Categories.Length];

        public void Add(in RecordFigures record)
        {
            Exits++;
            CpuTimeUs += record.CpuTimeUs;
            ReadBytes += record.ReadBytes;
            WriteBytes += record.WriteBytes;
            var readings = record.Delays;
            for (var c = 0; c < readings.Length; c++)
            {
                ref readonly var r = ref readings[c];
                if (r.Count is not { } count)
                    continue;
                ref var sum = ref Delays[c];
                sum.Present = true;
                sum.Count += count;
                sum.TotalNs += r.TotalNs ?? 0;
                if (r.MaxNs is { } max && (!sum.HasMax || max > sum.MaxNs))
                {
                    sum.MaxNs = max;
                    sum.HasMax = true;
                }
            }
        }

        public GroupFigures ToGroup(string key, bool withCommand)
        {
            var delays = new Dictionary<DelayCategory, DelayFigures>(Delays.Length);
            for (var c = 0; c < Delays.Length; c++)
            {
                var d = Delays[c];
                if (d.Present)
                    delays[Categories[c]] = new DelayFigures(d.Count, d.TotalNs, d.HasMax ? d.MaxNs : null);
            }
            return new GroupFigures(key, Exits, CpuTimeUs, delays, ReadBytes, WriteBytes, withCommand ? Command : null);
        }
    }

    /// <summary>What one record adds to each of its groups.</summary>
    private readonly record struct RecordFigures(ulong CpuTimeUs, ulong ReadBytes, ulong WriteBytes, DelayReading[] Delays);

    private struct DelaySum
    {
        public ulong Count;
        public ulong TotalNs;
        public ulong MaxNs;
        public bool Present;
        public bool HasMax;
    }

    /// <summary>One grouping: a bounded map from key to figures, plus the overflow group.</summary>
    private sealed class Table<TKey>(int maxKeys, IComparer<TKey> keyOrder, Func<TKey, string> format) where TKey : notnull
    {
        private readonly Dictionary<TKey, Figures> _map = new();
        private Figures? _other;
        // The last key asked for and its group: exits come in runs of one command, one user, one process's threads.
        private TKey? _lastKey;
        private Figures? _last;

        public Figures For(TKey key)
        {
            if (_last is not null && EqualityComparer<TKey>.Default.Equals(key, _lastKey))
                return _last;
            _lastKey = key;
            return _last = Find(key);
        }

        private Figures Find(TKey key)
        {
            if (_map.Count < maxKeys)
            {
                // One lookup whether the key is new or not.
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_map, key, out _);
                return slot ??= new Figures();
            }
            return _map.TryGetValue(key, out var figures) ? figures : _other ??= new Figures();
        }

        public void Clear()
        {
            _map.Clear();
            _other = null;
            _lastKey = default;
            _last = null;
        }

        /// <summary>The top <paramref name="n"/> groups by exits; ties go to the smaller key, the overflow group last.</summary>
        public IReadOnlyList<GroupFigures> TopByExits(int n, bool withCommand = false) =>
            Top(n, static f => f.Exits > 0, static f => f.Exits, withCommand);

        /// <summary>The top <paramref name="n"/> groups by total delay in one category, leaving out groups without such delay.</summary>
        public IReadOnlyList<GroupFigures> TopByDelay(int category, int n) =>
            Top(n, f => f.Delays[category].TotalNs > 0, f => f.Delays[category].TotalNs, withCommand: false);

        private IReadOnlyList<GroupFigures> Top<TRank>(int n, Func<Figures, bool> include, Func<Figures, TRank> rank, bool withCommand)
            where TRank : IComparable<TRank>
        {
            if (n == 0)
                return [];
            // "Worse" sorts first, so the heap's root is the entry to evict: O(keys · log n), not a full sort.
            var worseFirst = Comparer<Entry>.Create((a, b) =>
            {
                var byRank = rank(a.Figures).CompareTo(rank(b.Figures));
                if (byRank != 0)
                    return byRank;
                if (a.IsOther != b.IsOther)
                    return a.IsOther ? -1 : 1;
                return a.IsOther ? 0 : keyOrder.Compare(b.Key, a.Key);
            });
            var heap = new PriorityQueue<Entry, Entry>(Math.Min(n, _map.Count + 1) + 1, worseFirst);
            foreach (var (key, figures) in _map)
                Offer(new Entry(key, figures, false));
            if (_other is { } other)
                Offer(new Entry(default!, other, true));

            var result = new GroupFigures[heap.Count];
            for (var i = result.Length - 1; i >= 0; i--)
            {
                var e = heap.Dequeue();
                result[i] = e.IsOther
                    ? e.Figures.ToGroup(GroupFigures.OtherKey, withCommand: false) // many processes: no one name
                    : e.Figures.ToGroup(format(e.Key), withCommand);
            }
            return result;

            void Offer(Entry e)
            {
                if (!include(e.Figures))
                    return;
                if (heap.Count < n)
                    heap.Enqueue(e, e);
                else if (worseFirst.Compare(e, heap.Peek()) > 0)
                    heap.EnqueueDequeue(e, e);
            }
        }

        private readonly record struct Entry(TKey Key, Figures Figures, bool IsOther);
    }
}
