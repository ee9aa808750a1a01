using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// Decides which command names (<c>ac_comm</c>) get a <c>comm</c> label of their own in exported
/// metrics; every other exit is counted under <see cref="Other"/>. The set of labels only grows, and
/// never beyond a hard cap, so a series once exported stays the same series for the life of the
/// process and the number of series is bounded whatever the host runs.
/// </summary>
/// <remarks>
/// <para>A command gets its label</para>
/// <list type="number">
/// <item>at its first exit, while fewer than <see cref="Top"/> commands have labels (so a quiet host
/// shows its commands by name from the start), or</item>
/// <item>when a window closes (<see cref="CloseWindow"/>) with it among the <see cref="Top"/> commands
/// by exits in that window and with a real part of them (at least <see cref="MinWindowExits"/> exits and
/// <see cref="MinWindowShare"/> of the window's exits), while fewer than <see cref="Max"/> commands have
/// labels. The floor keeps one-off commands of a quiet window (a lone <c>readlink</c>) from taking
/// places under the cap that a heavy command may need later.</item>
/// </list>
/// <para>Labels are never withdrawn. Exits a command made before it got its label stay counted under
/// <see cref="Other"/>. Once <see cref="Max"/> commands have labels, a newcomer stays under
/// <see cref="Other"/> until the collector restarts. A command literally named <c>other</c> is always
/// counted under <see cref="Other"/> (a label of its own would be the same series).</para>
/// <para>Memory: the labelled set (at most <see cref="Max"/> names) and one window's exit counts, at
/// most <see cref="DefaultMaxTrackedPerWindow"/> names by default; exits of further names in a full window are not
/// ranked (they can still be labelled at once while there is room under <see cref="Top"/>).</para>
/// Single-threaded: the sink actor owns one.
/// </remarks>
public sealed class CommandLabelPolicy
{
    /// <summary>The label value of every exit whose command has no label of its own.</summary>
    public const string Other = "other";

    /// <summary>The default limit on distinct command names ranked in one window.</summary>
    public const int DefaultMaxTrackedPerWindow = 10_000;

    /// <summary>A command needs at least this many exits in a window to be promoted by it.</summary>
    public const long MinWindowExits = 2;

    /// <summary>A command needs at least this share of a window's exits to be promoted by it.</summary>
    public const double MinWindowShare = 0.01;

    private readonly HashSet<string> _labelled = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _window = new(StringComparer.Ordinal);
    private readonly int _maxTracked;
    private long _windowExits;

    /// <summary>Creates the policy with no command labelled yet.</summary>
    /// <param name="top">Commands labelled at once, and the size of each window's ranking.</param>
    /// <param name="max">The hard cap on labelled commands; at least <paramref name="top"/>.</param>
    /// <param name="maxTrackedPerWindow">Most distinct names counted in one window.</param>
    public CommandLabelPolicy(int top, int max, int maxTrackedPerWindow = DefaultMaxTrackedPerWindow)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(top);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, top);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTrackedPerWindow, 1);
        Top = top;
        Max = max;
        _maxTracked = maxTrackedPerWindow;
    }

    /// <summary>How many commands are labelled at once, and promoted per window.</summary>
    public int Top { get; }

    /// <summary>The most commands that ever get a label.</summary>
    public int Max { get; }

    /// <summary>The commands that have labels, in no particular order.</summary>
    public IReadOnlyCollection<string> Labelled => _labelled;

    /// <summary>True once <see cref="Max"/> commands have labels.</summary>
    public bool Full => _labelled.Count >= Max;

    /// <summary>Counts one exit of <paramref name="comm"/> in the current window and returns its label value.</summary>
    /// <param name="comm">The command name.</param>
    /// <param name="admitted">True when this call gave <paramref name="comm"/> its label.</param>
    /// <returns><paramref name="comm"/> when it has a label, else <see cref="Other"/>.</returns>
    public string Observe(string comm, out bool admitted)
    {
        ArgumentNullException.ThrowIfNull(comm);
        admitted = false;
        _windowExits++;
        // One lookup per exit: add the name while the window has room, else count it only if known.
        ref var count = ref _window.Count < _maxTracked
            ? ref CollectionsMarshal.GetValueRefOrAddDefault(_window, comm, out _)
            : ref CollectionsMarshal.GetValueRefOrNullRef(_window, comm);
        if (!Unsafe.IsNullRef(ref count))
            count++;
        if (_labelled.Contains(comm))
            return comm;
        if (_labelled.Count < Top && Admissible(comm))
        {
            _labelled.Add(comm);
            admitted = true;
            return comm;
        }
        return Other;
    }

    /// <summary>The label value of <paramref name="comm"/> now, without counting an exit.</summary>
    public string LabelOf(string comm) => _labelled.Contains(comm) ? comm : Other;

    /// <summary>
    /// Ends the current window: its <see cref="Top"/> commands by exits (ties by name) that have no
    /// label and made at least <see cref="MinWindowExits"/> and <see cref="MinWindowShare"/> of the
    /// window's exits get one, while there is room under <see cref="Max"/>. Starts the next window.
    /// </summary>
    public WindowOutcome CloseWindow()
    {
        var floor = Math.Max(MinWindowExits, (long)Math.Ceiling(MinWindowShare * _windowExits));
        var ranked = _window
            .Where(pair => Admissible(pair.Key))
            .OrderByDescending(pair => pair.Value)
            .ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Take(Top)
            .Where(pair => pair.Value >= floor)
            .Select(pair => pair.Key);
        var admitted = new List<string>();
        var refused = new List<string>();
        foreach (var comm in ranked)
        {
            if (_labelled.Contains(comm))
                continue;
            if (_labelled.Count < Max)
            {
                _labelled.Add(comm);
                admitted.Add(comm);
            }
            else
            {
                refused.Add(comm);
            }
        }
        _window.Clear();
        _windowExits = 0;
        return new WindowOutcome(admitted, refused);
    }

    private static bool Admissible(string comm) => !string.Equals(comm, Other, StringComparison.Ordinal);

    /// <summary>What closing a window changed.</summary>
    /// <param name="Admitted">Commands that got their label, by rank.</param>
    /// <param name="Refused">Top commands of the window left under <see cref="Other"/> because <see cref="Max"/> was reached.</param>
    public sealed record WindowOutcome(IReadOnlyList<string> Admitted, IReadOnlyList<string> Refused);
}
