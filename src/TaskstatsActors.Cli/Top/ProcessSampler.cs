using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Top;

/// <summary>Asks the kernel for the stats of every live process, by tgid, and turns two samples into rows.</summary>
public sealed class ProcessSampler(TaskstatsConnection connection, string procRoot = "/proc")
{
    private Dictionary<uint, ProcessSample> _previous = new();
    private DateTime _previousAt;

    /// <summary>Takes a sample of every process and returns the rows for the interval since the last one (none the first time).</summary>
    public async Task<IReadOnlyList<TopRow>> SampleAsync(CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        var current = new Dictionary<uint, ProcessSample>();
        foreach (var tgid in LiveProcesses())
        {
            try
            {
                var record = await connection.GetByTgidAsync((int)tgid, cancellationToken);
                current[tgid] = ProcessSample.From(record, ReadComm(tgid), ReadIo(tgid));
            }
            catch (NetlinkErrorException e) when (e.Errno == Errno.ESRCH)
            {
                // It exited between the listing and the question.
            }
        }
        var rows = new List<TopRow>();
        foreach (var (tgid, sample) in current)
        {
            if (_previous.TryGetValue(tgid, out var before))
                rows.Add(TopRow.Between(before, sample, now - _previousAt));
        }
        _previous = current;
        _previousAt = now;
        return rows;
    }

    private string? ReadComm(uint tgid)
    {
        try
        {
            return File.ReadAllText(Path.Combine(procRoot, tgid.ToString(), "comm")).TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary><c>read_bytes</c> and <c>write_bytes</c> of /proc/TGID/io: storage I/O of the whole process.</summary>
    private (ulong Read, ulong Write)? ReadIo(uint tgid)
    {
        try
        {
            ulong read = 0, write = 0;
            foreach (var line in File.ReadLines(Path.Combine(procRoot, tgid.ToString(), "io")))
            {
                if (line.StartsWith("read_bytes: ", StringComparison.Ordinal))
                    read = ulong.Parse(line.AsSpan(12));
                else if (line.StartsWith("write_bytes: ", StringComparison.Ordinal))
                    write = ulong.Parse(line.AsSpan(13));
            }
            return (read, write);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    private IEnumerable<uint> LiveProcesses()
    {
        foreach (var directory in Directory.EnumerateDirectories(procRoot))
        {
            if (uint.TryParse(Path.GetFileName(directory), out var tgid))
                yield return tgid;
        }
    }
}
