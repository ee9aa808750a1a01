namespace TaskstatsActors.Kernel.Host;

/// <summary>
/// The <c>kernel.task_delayacct</c> switch. Off by default since Linux 5.14; while off, most delay
/// fields of every record stay 0 (CPU delay still comes from scheduler statistics).
/// </summary>
public sealed class DelayAccounting(string path = DelayAccounting.DefaultPath)
{
    /// <summary>The sysctl's file.</summary>
    public const string DefaultPath = "/proc/sys/kernel/task_delayacct";

    /// <summary>How a person turns it on.</summary>
    public const string HowToEnable = "turn it on with 'sysctl -w kernel.task_delayacct=1' (as root), or boot with 'delayacct'";

    /// <summary>True when on, false when off, null when this kernel has no such switch.</summary>
    public bool? IsEnabled => File.Exists(path) ? File.ReadAllText(path).Trim() == "1" : null;

    /// <summary>Sets the switch (needs root); returns the previous value so a caller can restore it.</summary>
    public bool Set(bool enabled)
    {
        var previous = IsEnabled ?? throw new InvalidOperationException($"{path} does not exist: this kernel has no delay accounting switch");
        File.WriteAllText(path, enabled ? "1" : "0");
        return previous;
    }
}
