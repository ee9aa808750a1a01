namespace TaskstatsActors.Cli.Top;

/// <summary>What <c>top</c> can sort by, with the key that picks it and the column's heading.</summary>
public enum TopColumn
{
    Cpu,
    Blkio,
    Swapin,
    Reclaim,
    Thrashing,
    Compact,
    Wpcopy,
    Irq,
    CpuTime,
    Io,
}

/// <summary>Names, headings and keys of <see cref="TopColumn"/>.</summary>
public static class TopColumns
{
    /// <summary>The <c>--sort</c> name, e.g. <c>blkio</c>.</summary>
    public static string Name(TopColumn column) => column switch
    {
        TopColumn.CpuTime => "cputime",
        _ => column.ToString().ToLowerInvariant(),
    };

    /// <summary>The key that sorts by the column in the interactive view.</summary>
    public static char Key(TopColumn column) => column switch
    {
        TopColumn.Cpu => 'c',
        TopColumn.Blkio => 'b',
        TopColumn.Swapin => 's',
        TopColumn.Reclaim => 'r',
        TopColumn.Thrashing => 't',
        TopColumn.Compact => 'm',
        TopColumn.Wpcopy => 'w',
        TopColumn.Irq => 'i',
        TopColumn.CpuTime => 'u',
        TopColumn.Io => 'o',
        _ => '?',
    };

    /// <summary>The column heading.</summary>
    public static string Heading(TopColumn column) => column switch
    {
        TopColumn.Cpu => "CPUDLY%",
        TopColumn.Blkio => "BLKIO%",
        TopColumn.Swapin => "SWAPIN%",
        TopColumn.Reclaim => "RECLAIM%",
        TopColumn.Thrashing => "THRASH%",
        TopColumn.Compact => "COMPACT%",
        TopColumn.Wpcopy => "WPCOPY%",
        TopColumn.Irq => "IRQ%",
        TopColumn.CpuTime => "CPU%",
        TopColumn.Io => "IO/s",
        _ => column.ToString(),
    };

    /// <summary>Parses a <c>--sort</c> name.</summary>
    public static TopColumn? Parse(string name) =>
        Enum.GetValues<TopColumn>().Cast<TopColumn?>().FirstOrDefault(c => Name(c!.Value) == name.ToLowerInvariant());

    /// <summary>The column a key picks, if any.</summary>
    public static TopColumn? ForKey(char key) =>
        Enum.GetValues<TopColumn>().Cast<TopColumn?>().FirstOrDefault(c => Key(c!.Value) == char.ToLowerInvariant(key));
}
