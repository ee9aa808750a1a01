using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Collector.Settings;

/// <summary>
/// Decides which CPUs each listener registers: the <c>auto</c> layout from the machine's topology,
/// or an explicit list checked against it.
/// </summary>
/// <remarks>
/// <para>
/// <b>Why shards.</b> One listener on many CPUs cannot drain its socket fast enough under a high exit
/// rate; the kernel's cure is more listeners, each on fewer CPUs. A one-CPU shard is best: its
/// per-CPU sequence numbers count loss exactly and it drains in parallel with the others. But every
/// listener costs a socket with its receive buffer (<c>receive-buffer</c>, grown up to
/// <c>max-receive-buffer</c> by the watchdog) and a receive loop, so big hosts group CPUs.
/// </para>
/// <para>
/// <b><c>cpus-per-shard = auto</c></b>, by the number of online CPUs: up to 16 → 1 CPU per shard;
/// up to 64 → 2; up to 256 → 4; up to 1024 → 8; more → 16. That keeps 16 to 64 listeners up to
/// 256 CPUs and grows slowly beyond (1024 CPUs → 128 listeners), so that the buffers stay within
/// a small share of memory even at <c>max-receive-buffer</c>.
/// </para>
/// <para>
/// <b>Grouping.</b> Within each NUMA node (never across: a listener whose CPUs span nodes would
/// pull every record across the interconnect), the node's online CPUs are taken in ascending order
/// and cut into groups of <c>cpus-per-shard</c>; the last group of a node may be smaller. Online
/// CPUs that no node lists form a group of their own, so that every online CPU is covered.
/// </para>
/// </remarks>
public static class ShardLayout
{
    /// <summary>How the valid masks are described in errors.</summary>
    internal const string MaskSyntax = "as \"0-3,5\"";

    /// <summary>The group size <c>cpus-per-shard = auto</c> picks for a host with <paramref name="onlineCpus"/> online CPUs.</summary>
    public static int AutoCpusPerShard(int onlineCpus) => onlineCpus switch
    {
        <= 16 => 1,
        <= 64 => 2,
        <= 256 => 4,
        <= 1024 => 8,
        _ => 16,
    };

    /// <summary>
    /// The <c>auto</c> layout: groups of <paramref name="cpusPerShard"/> adjacent online CPUs
    /// (null: <see cref="AutoCpusPerShard"/>) within each NUMA node, nodes in ascending order.
    /// </summary>
    /// <param name="online">The online CPUs.</param>
    /// <param name="nodes">The NUMA nodes and their CPUs, as <see cref="OnlineCpus.ReadNumaNodes"/> gives them.</param>
    /// <param name="cpusPerShard">CPUs per listener, at least 1; null for the automatic choice.</param>
    public static IReadOnlyList<CpuMask> Auto(CpuMask online, IReadOnlyList<(int Node, CpuMask Cpus)> nodes, int? cpusPerShard)
    {
        ArgumentNullException.ThrowIfNull(online);
        ArgumentNullException.ThrowIfNull(nodes);
        var size = cpusPerShard ?? AutoCpusPerShard(online.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1, nameof(cpusPerShard));

        var shards = new List<CpuMask>();
        var assigned = CpuMask.Empty;
        foreach (var (_, nodeCpus) in nodes)
        {
            // A node's cpulist can name CPUs that went offline since; and no CPU may land in two shards.
            var cpus = nodeCpus.Intersect(online).Except(assigned);
            Cut(cpus, size, shards);
            assigned = assigned.Union(cpus);
        }
        Cut(online.Except(assigned), size, shards);
        return shards;
    }

    /// <summary>
    /// Parses and checks an explicit layout: every mask parses, is not empty, names only online
    /// CPUs, and shares no CPU with another (overlapping listeners would each get every record of
    /// the shared CPUs, counting them twice).
    /// </summary>
    /// <param name="masks">The masks as written in <c>taskstats.shards</c>.</param>
    /// <param name="online">The online CPUs.</param>
    /// <param name="key">The list's HOCON path, for messages.</param>
    /// <exception cref="ConfigException">A mask is refused; the message names its index and value.</exception>
    public static IReadOnlyList<CpuMask> Explicit(IReadOnlyList<string> masks, CpuMask online, string key = "taskstats.shards")
    {
        ArgumentNullException.ThrowIfNull(masks);
        ArgumentNullException.ThrowIfNull(online);
        var valid = $"cpus from {(online.IsEmpty ? "none" : online.ToString())}, {MaskSyntax}";
        if (masks.Count == 0)
            throw new ConfigException(key, "[]", "the list of shards is empty, so no listener would run",
                $"auto, or a list of disjoint cpu masks such as [\"0-3\", \"4-7\"] ({valid})");

        var shards = new List<CpuMask>(masks.Count);
        for (var i = 0; i < masks.Count; i++)
        {
            var itemKey = $"{key}[{i}]";
            var text = masks[i];
            if (string.IsNullOrWhiteSpace(text))
                throw new ConfigException(itemKey, text, "the cpu mask is empty, so its listener would hear no cpu", valid);
            CpuMask mask;
            try
            {
                mask = CpuMask.Parse(text);
            }
            catch (CpuMaskException e)
            {
                throw new ConfigException(itemKey, text, e.Message, valid, e);
            }
            try
            {
                mask.Validate(online);
            }
            catch (CpuMaskException e)
            {
                throw new ConfigException(itemKey, text, e.Message, valid, e);
            }
            for (var j = 0; j < shards.Count; j++)
            {
                if (!mask.Overlaps(shards[j]))
                    continue;
                var shared = mask.Intersect(shards[j]);
                throw new ConfigException(itemKey, text,
                    $"overlaps {key}[{j}] = \"{masks[j]}\" on {(shared.Count == 1 ? "cpu" : "cpus")} {shared} " +
                    "(both listeners would get every record of those cpus, counting them twice)",
                    $"disjoint masks, each cpu in at most one shard ({valid})");
            }
            shards.Add(mask);
        }
        return shards;
    }

    /// <summary>The online CPUs that no shard covers: exits on them are not collected.</summary>
    public static CpuMask Uncovered(IEnumerable<CpuMask> shards, CpuMask online)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(online);
        var left = online;
        foreach (var shard in shards)
            left = left.Except(shard);
        return left;
    }

    private static void Cut(CpuMask cpus, int size, List<CpuMask> shards)
    {
        var group = new List<int>(size);
        foreach (var cpu in cpus)
        {
            group.Add(cpu);
            if (group.Count == size)
            {
                shards.Add(CpuMask.Of(group));
                group.Clear();
            }
        }
        if (group.Count > 0)
            shards.Add(CpuMask.Of(group));
    }
}
