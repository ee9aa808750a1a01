using System.Globalization;

namespace TaskstatsActors.Kernel.Cpus;

/// <summary>
/// Reads the machine's CPU topology from sysfs: the online and possible CPUs, the kernel's
/// <c>NR_CPUS</c>, and the CPUs of each NUMA node. The sysfs root is injectable so that tests
/// can point it at a directory of their own.
/// </summary>
public sealed class OnlineCpus
{
    /// <summary>Where the kernel publishes CPU and node topology.</summary>
    public const string DefaultRoot = "/sys/devices/system";

    /// <summary>The reader for this machine's <see cref="DefaultRoot"/>.</summary>
    public static OnlineCpus System { get; } = new(DefaultRoot);

    /// <summary>Creates a reader for a sysfs tree laid out like <see cref="DefaultRoot"/> (with <c>cpu/</c> and <c>node/</c>).</summary>
    public OnlineCpus(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = root;
    }

    /// <summary>The directory that holds <c>cpu/</c> and <c>node/</c>.</summary>
    public string Root { get; }

    /// <summary>The CPUs that are online now (<c>cpu/online</c>); CPU hotplug can change it at any time.</summary>
    /// <exception cref="CpuMaskException">The file cannot be read or parsed.</exception>
    public CpuMask ReadOnline() => ReadList(Path.Combine(Root, "cpu", "online"));

    /// <summary>
    /// The CPUs that can ever come online on this boot (<c>cpu/possible</c>); fixed at boot.
    /// The kernel refuses to register a listener for a CPU outside this set.
    /// </summary>
    /// <exception cref="CpuMaskException">The file cannot be read or parsed.</exception>
    public CpuMask ReadPossible() => ReadList(Path.Combine(Root, "cpu", "possible"));

    /// <summary>
    /// The kernel's compile-time <c>NR_CPUS</c>, which sizes the taskstats limit on a registered
    /// mask string: <c>cpu/kernel_max</c> + 1. Where that file is missing, falls back to the
    /// highest possible CPU + 1, which can only be smaller (<c>NR_CPUS</c> bounds the possible
    /// CPUs), so a check against it errs on the safe side.
    /// </summary>
    /// <exception cref="CpuMaskException">Neither file can be read or parsed.</exception>
    public int ReadKernelCpuCount()
    {
        var path = Path.Combine(Root, "cpu", "kernel_max");
        if (!File.Exists(path))
            return ReadPossible().Max + 1;
        var text = ReadText(path).Trim();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var kernelMax) || kernelMax > CpuMask.MaxCpu)
            throw new CpuMaskException($"cannot parse {path}: \"{text}\" is not a cpu number");
        return kernelMax + 1;
    }

    /// <summary>
    /// The NUMA nodes that have CPUs, ascending by node id, each with its CPUs as the kernel
    /// lists them in <c>node/node&lt;N&gt;/cpulist</c>. Nodes without CPUs (memory-only nodes,
    /// such as CXL memory) are left out because no task can exit on them. A kernel built
    /// without NUMA has no <c>node/</c> directory: then the whole machine is node 0 with the
    /// online CPUs.
    /// </summary>
    /// <exception cref="CpuMaskException">A node's cpulist cannot be read or parsed.</exception>
    public IReadOnlyList<(int Node, CpuMask Cpus)> ReadNumaNodes()
    {
        var directory = Path.Combine(Root, "node");
        var nodes = new List<(int Node, CpuMask Cpus)>();
        if (Directory.Exists(directory))
        {
            IEnumerable<string> entries;
            try
            {
                entries = Directory.EnumerateDirectories(directory, "node*").ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CpuMaskException($"cannot list NUMA nodes in {directory}: {e.Message}", e);
            }
            foreach (var entry in entries)
            {
                // Only node<N> directories are nodes; skip anything else the pattern may catch.
                var suffix = Path.GetFileName(entry)["node".Length..];
                if (!int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out var node))
                    continue;
                var path = Path.Combine(entry, "cpulist");
                var text = ReadText(path);
                if (text.Trim().Length == 0)
                    continue;
                nodes.Add((node, ParseFile(path, text)));
            }
        }
        if (nodes.Count == 0)
            return [(0, ReadOnline())];
        nodes.Sort((a, b) => a.Node.CompareTo(b.Node));
        return nodes;
    }

    /// <summary>Checks <paramref name="mask"/> against the CPUs online now, see <see cref="CpuMask.Validate"/>.</summary>
    /// <exception cref="CpuMaskException">The mask is empty, names offline CPUs, or sysfs cannot be read.</exception>
    public void Validate(CpuMask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        mask.Validate(ReadOnline());
    }

    private static CpuMask ReadList(string path)
    {
        var text = ReadText(path);
        if (text.Trim().Length == 0)
            throw new CpuMaskException($"{path} is empty");
        return ParseFile(path, text);
    }

    private static CpuMask ParseFile(string path, string text)
    {
        try
        {
            return CpuMask.Parse(text);
        }
        catch (CpuMaskException e)
        {
            throw new CpuMaskException($"cannot parse {path}: {e.Message}", e);
        }
    }

    private static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CpuMaskException($"cannot read {path}: {e.Message}", e);
        }
    }
}
