using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Aggregation;

/// <summary>Everything the aggregator learned in one time window.</summary>
/// <param name="Start">Window start (inclusive).</param>
/// <param name="End">Window end (exclusive).</param>
/// <param name="Exits">Task exits (exit messages) seen.</param>
/// <param name="Lost">Exit messages reported lost in the window.</param>
/// <param name="ByCommand">Figures per command name (<c>ac_comm</c>), the top N by exits.</param>
/// <param name="ByUser">Figures per uid, the top N by exits.</param>
/// <param name="ByProcess">Figures per tgid, the top N by exits.</param>
/// <param name="TopByDelay">For each delay category, the top N commands by total delay.</param>
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
/// <param name="Key">The command name, uid or tgid, as text.</param>
/// <param name="Exits">Task exits in the group.</param>
/// <param name="CpuTimeUs">User + system CPU time, microseconds.</param>
/// <param name="Delays">Per delay category: count, total and max.</param>
/// <param name="ReadBytes">Bytes read from storage.</param>
/// <param name="WriteBytes">Bytes written to storage.</param>
public sealed record GroupFigures(
    string Key,
    long Exits,
    ulong CpuTimeUs,
    IReadOnlyDictionary<DelayCategory, DelayFigures> Delays,
    ulong ReadBytes,
    ulong WriteBytes);

/// <summary>One delay category summed over a group.</summary>
public readonly record struct DelayFigures(ulong Count, ulong TotalNs, ulong MaxNs);
