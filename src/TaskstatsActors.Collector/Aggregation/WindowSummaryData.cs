using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Aggregation;

/// <summary>Everything the aggregator learned in one time window.</summary>
/// <remarks>
/// Records are assigned to the window in which the aggregator handles them. Each exit counts once, with its
/// task (<c>AGGR_PID</c>) record; the process (<c>AGGR_TGID</c>) record that rides along sums the same threads
/// again and is not added. When a grouping meets its key limit, further new keys are summed under
/// <see cref="GroupFigures.OtherKey"/>, which is ranked like any other group.
/// </remarks>
/// <param name="Start">Window start (inclusive).</param>
/// <param name="End">Window end (exclusive).</param>
/// <param name="Exits">Task exits (exit messages with a task record) seen.</param>
/// <param name="Lost">Exit messages reported lost in the window.</param>
/// <param name="ByCommand">Figures per command name (<c>ac_comm</c>), the top N by exits.</param>
/// <param name="ByUser">Figures per uid, the top N by exits (records without <c>ac_uid</c> are left out).</param>
/// <param name="ByProcess">Figures per tgid, the top N by exits; <see cref="GroupFigures.Command"/> names the process.</param>
/// <param name="TopByDelay">
/// For each delay category (every category is a key), the top N commands by total delay; commands with no
/// delay of that kind are left out, so a list may be shorter than N or empty.
/// </param>
public sealed record WindowSummaryData(
    DateTimeOffset Start,
    DateTimeOffset End,
    long Exits,
    long Lost,
    IReadOnlyList<GroupFigures> ByCommand,
    IReadOnlyList<GroupFigures> ByUser,
    IReadOnlyList<GroupFigures> ByProcess,
    IReadOnlyDictionary<DelayCategory, IReadOnlyList<GroupFigures>> TopByDelay);

/// <summary>Summed figures of one group (a command, a uid or a tgid) over a window.</summary>
/// <param name="Key">The command name, uid or tgid, as text; <see cref="OtherKey"/> for the overflow group.</param>
/// <param name="Exits">Task exits in the group.</param>
/// <param name="CpuTimeUs">User + system CPU time, microseconds.</param>
/// <param name="Delays">
/// Per delay category: count, total and max. A category no record of the group carried (older struct
/// versions) is absent from the map, not zero.
/// </param>
/// <param name="ReadBytes">Bytes read from storage.</param>
/// <param name="WriteBytes">Bytes written to storage.</param>
/// <param name="Command">For a tgid group, the process's command name (its leader's, else the first thread seen); otherwise null.</param>
public sealed record GroupFigures(
    string Key,
    long Exits,
    ulong CpuTimeUs,
    IReadOnlyDictionary<DelayCategory, DelayFigures> Delays,
    ulong ReadBytes,
    ulong WriteBytes,
    string? Command = null)
{
    /// <summary>The key of the group that sums every key beyond a grouping's limit.</summary>
    public const string OtherKey = "(other)";
}

/// <summary>One delay category summed over a group.</summary>
/// <param name="Count">Delays counted.</param>
/// <param name="TotalNs">Their total, nanoseconds.</param>
/// <param name="MaxNs">
/// The longest single delay, nanoseconds; null when no record of the group carried a maximum (struct
/// versions before 15), which means unknown, not 0. When only some records did, it is the longest among those.
/// </param>
public readonly record struct DelayFigures(ulong Count, ulong TotalNs, ulong? MaxNs);
