namespace TaskstatsActors.Cli.Report;

/// <summary>What <c>report --by</c> groups exit records by.</summary>
/// <param name="Name">The option value and the key's name in JSON and CSV: comm, uid, tgid, shard.</param>
/// <param name="Column">The column of <c>exits</c> grouped on.</param>
/// <param name="Singular">How the table's title names one group: "command", "user", …</param>
/// <param name="Plural">How it counts groups: "commands", "users", …</param>
/// <param name="Heading">The key column's heading in the table.</param>
/// <param name="IsNumeric">Whether the key is a number (written as a JSON number).</param>
internal sealed record ReportGrouping(string Name, string Column, string Singular, string Plural, string Heading, bool IsNumeric)
{
    public static readonly ReportGrouping Command = new("comm", "ac_comm", "command", "commands", "command", false);
    public static readonly ReportGrouping User = new("uid", "ac_uid", "user", "users", "uid", true);
    public static readonly ReportGrouping Process = new("tgid", "ac_tgid", "process", "processes", "tgid", true);
    public static readonly ReportGrouping Shard = new("shard", "shard", "shard", "shards", "shard", true);

    public static IReadOnlyList<ReportGrouping> All { get; } = [Command, User, Process, Shard];

    public static ReportGrouping Parse(string name) =>
        All.FirstOrDefault(grouping => grouping.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"no grouping '{name}'", nameof(name));

    /// <summary>A process group is named by its command too.</summary>
    public bool HasCommand => this == Process;

    /// <summary>A shard group also counts the exit messages lost on it.</summary>
    public bool HasLost => this == Shard;

    /// <summary>"1 command", "37 commands".</summary>
    public string Count(long count) => $"{ReportUnits.Count(count)} {(count == 1 ? Singular : Plural)}";
}

