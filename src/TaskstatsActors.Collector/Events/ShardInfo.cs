using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Collector.Events;

/// <summary>One listener's share of the host: its index in the layout and the CPUs it registered.</summary>
/// <param name="Index">Position in the shard layout, from 0.</param>
/// <param name="Cpus">The cpumask the shard's listener registers.</param>
public sealed record ShardInfo(int Index, CpuMask Cpus)
{
    /// <summary>e.g. <c>shard 2 (cpus 8-11)</c>.</summary>
    public override string ToString() => $"shard {Index} (cpus {Cpus})";
}
