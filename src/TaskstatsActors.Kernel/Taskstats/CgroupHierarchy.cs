namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>Tells which cgroup hierarchy a directory belongs to, from <c>/proc/self/mountinfo</c>.</summary>
public static class CgroupHierarchy
{
    /// <summary>True when the longest mount point containing <paramref name="directory"/> is a <c>cgroup2</c> mount.</summary>
    public static bool IsVersion2(string directory, string mountInfoPath = "/proc/self/mountinfo")
    {
        var full = Path.GetFullPath(directory).TrimEnd('/') + "/";
        string? bestType = null;
        var bestLength = -1;
        foreach (var line in File.ReadLines(mountInfoPath))
        {
            // mountinfo: id parent major:minor root mountpoint options ... - fstype source superoptions
            var fields = line.Split(' ');
            var dash = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || dash < 0 || dash + 1 >= fields.Length)
                continue;
            var mountPoint = fields[4].TrimEnd('/') + "/";
            if (full.StartsWith(mountPoint, StringComparison.Ordinal) && mountPoint.Length > bestLength)
            {
                bestLength = mountPoint.Length;
                bestType = fields[dash + 1];
            }
        }
        return bestType == "cgroup2";
    }
}
