using System.Buffers.Binary;
using System.Text;
using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Benchmarks;

/// <summary>
/// Exit messages to replay, each one netlink datagram exactly as a listener receives it from the kernel
/// (<c>nlmsghdr</c>, <c>genlmsghdr</c>, <c>AGGR_PID</c> and sometimes <c>AGGR_TGID</c>, a <c>TYPE_NULL</c> pad).
/// </summary>
public sealed class ExitCorpus
{
    /// <summary>The family id the messages carry (the decoder does not look at it).</summary>
    public const ushort FamilyId = 31;

    private ExitCorpus(IReadOnlyList<byte[]> datagrams, string description)
    {
        Datagrams = datagrams;
        Description = description;
        foreach (var datagram in datagrams)
            foreach (var message in NetlinkMessage.Split(datagram))
            {
                var decoded = TaskstatsMessageDecoder.Decode(message);
                Messages++;
                Records += (decoded.Task is null ? 0 : 1) + (decoded.Process is null ? 0 : 1);
            }
    }

    /// <summary>The datagrams, in replay order.</summary>
    public IReadOnlyList<byte[]> Datagrams { get; }

    /// <summary>What the corpus is, for the report.</summary>
    public string Description { get; }

    /// <summary>Exit messages in the corpus.</summary>
    public int Messages { get; }

    /// <summary>Records (task records plus process records) in the corpus.</summary>
    public int Records { get; }

    /// <summary>Total bytes of the datagrams.</summary>
    public long Bytes => Datagrams.Sum(d => (long)d.Length);

    /// <summary>
    /// Builds <paramref name="count"/> exit messages from the real v16 record captured on this kernel
    /// (tests/TaskstatsActors.Kernel.Tests/Fixtures/taskstats-v16-real.bin), varied as a storm of mixed
    /// exits would be: half are single-threaded processes (a task record only, each its own tgid), half
    /// threads of 8-thread processes whose last thread also carries the process record (AGGR_TGID);
    /// 32 command names, 3 uids, CPU times, context switches and delays that differ per record.
    /// </summary>
    public static ExitCorpus FromFixture(int count = 16_384, string? fixture = null)
    {
        fixture ??= Path.Combine(AppContext.BaseDirectory, "Fixtures", "taskstats-v16-real.bin");
        var real = File.ReadAllBytes(fixture);
        var layout = TaskstatsLayout.ForVersion(BinaryPrimitives.ReadUInt16LittleEndian(real));
        if (real.Length < layout.Size)
            throw new InvalidDataException($"{fixture}: {real.Length} bytes, a v{layout.Version} record needs {layout.Size}");

        var datagrams = new byte[count][];
        uint pid = 100_000, sequence = 5_000;
        var threadOfProcess = 0;
        uint tgid = pid;
        for (var i = 0; i < count; i++)
        {
            var stats = real.AsSpan(0, layout.Size).ToArray();
            var multiThreaded = (i / 8) % 2 == 1; // blocks of 8: single-threaded processes, then one 8-thread process
            if (!multiThreaded || threadOfProcess == 0)
                tgid = pid;
            // Threads of one process share its name.
            var comm = multiThreaded ? $"worker-{(i / 16) % 16:D2}" : $"job-{i % 16:D2}";
            var uid = (uint)(i % 3 == 0 ? 0 : 1000 + i % 2);

            Patch(stats, layout, "ac_pid", 4, pid);
            Patch(stats, layout, "ac_tgid", 4, tgid);
            Patch(stats, layout, "ac_ppid", 4, 1);
            Patch(stats, layout, "ac_uid", 4, uid);
            Patch(stats, layout, "ac_gid", 4, uid);
            Patch(stats, layout, "ac_utime", 8, (ulong)(50 + i % 97));
            Patch(stats, layout, "ac_stime", 8, (ulong)(120 + i % 89));
            Patch(stats, layout, "cpu_count", 8, (ulong)(1 + i % 5));
            Patch(stats, layout, "cpu_delay_total", 8, (ulong)(10_000 + 37 * (i % 1000)));
            Patch(stats, layout, "cpu_delay_max", 8, (ulong)(9_000 + 37 * (i % 1000)));
            Patch(stats, layout, "nvcsw", 8, (ulong)(i % 7));
            Patch(stats, layout, "nivcsw", 8, (ulong)(i % 3));
            Patch(stats, layout, "read_bytes", 8, (ulong)(i % 4 * 4096));
            layout.TryGetOffset("ac_comm", out var commOffset);
            var commField = stats.AsSpan(commOffset, TaskstatsLayout.CommLength);
            commField.Clear();
            Encoding.UTF8.GetBytes(comm, commField);

            var lastThread = multiThreaded && threadOfProcess == 7;
            var writer = new NetlinkMessageWriter(FamilyId, NetlinkFlags.None)
                .Bytes(new GenericNetlinkHeader(TaskstatsProtocol.CmdNew, 1).ToBytes())
                .BeginNested(TaskstatsProtocol.TypeAggrPid)
                .UInt32(TaskstatsProtocol.TypePid, pid)
                .Attribute(TaskstatsProtocol.TypeStats, stats)
                .EndNested();
            if (lastThread)
            {
                var process = stats.ToArray();
                Patch(process, layout, "ac_pid", 4, tgid);
                writer.BeginNested(TaskstatsProtocol.TypeAggrTgid)
                    .UInt32(TaskstatsProtocol.TypeTgid, tgid)
                    .Attribute(TaskstatsProtocol.TypeStats, process)
                    .EndNested();
            }
            writer.Attribute(TaskstatsProtocol.TypeNull, ReadOnlySpan<byte>.Empty);
            datagrams[i] = writer.ToArray(sequence++);

            threadOfProcess = multiThreaded ? (threadOfProcess + 1) % 8 : 0;
            pid++;
        }
        return new ExitCorpus(datagrams,
            $"{count} exit messages built from the real v16 record (fixture): half single-threaded processes, " +
            "half threads of 8-thread processes (the last thread's message also carries AGGR_TGID); 32 command names, 3 uids");
    }

    /// <summary>Loads datagrams written by <see cref="Save"/> (e.g. by the <c>capture</c> command).</summary>
    public static ExitCorpus Load(string path)
    {
        using var file = new BinaryReader(File.OpenRead(path));
        var datagrams = new List<byte[]>();
        while (file.BaseStream.Position < file.BaseStream.Length)
            datagrams.Add(file.ReadBytes(file.ReadInt32()));
        if (datagrams.Count == 0)
            throw new InvalidDataException($"{path} holds no datagrams");
        return new ExitCorpus(datagrams, $"{datagrams.Count} exit messages captured from the kernel ({Path.GetFileName(path)})");
    }

    /// <summary>Writes datagrams as (int32 length, bytes) pairs.</summary>
    public static void Save(string path, IEnumerable<byte[]> datagrams)
    {
        using var file = new BinaryWriter(File.Create(path));
        foreach (var datagram in datagrams)
        {
            file.Write(datagram.Length);
            file.Write(datagram);
        }
    }

    /// <summary>Only the messages with (or without) a process record, for the decoder's per-shape figures.</summary>
    public byte[][] Where(bool withProcess)
    {
        var result = new List<byte[]>();
        foreach (var datagram in Datagrams)
        {
            var has = false;
            foreach (var message in NetlinkMessage.Split(datagram))
                has |= TaskstatsMessageDecoder.Decode(message).Process is not null;
            if (has == withProcess)
                result.Add(datagram);
        }
        return [.. result];
    }

    /// <summary>The corpus decoded, cut into batches of <paramref name="batchSize"/> messages as a listener would hand them on.</summary>
    public List<List<TaskstatsMessage>> DecodeBatches(int batchSize)
    {
        var batches = new List<List<TaskstatsMessage>>();
        var batch = new List<TaskstatsMessage>(batchSize);
        foreach (var datagram in Datagrams)
            foreach (var message in NetlinkMessage.Split(datagram))
            {
                batch.Add(TaskstatsMessageDecoder.Decode(message));
                if (batch.Count == batchSize)
                {
                    batches.Add(batch);
                    batch = new List<TaskstatsMessage>(batchSize);
                }
            }
        if (batch.Count > 0)
            batches.Add(batch);
        return batches;
    }

    private static void Patch(byte[] stats, TaskstatsLayout layout, string field, int size, ulong value)
    {
        if (!layout.TryGetOffset(field, out var offset))
            return; // an older layout: leave the field as captured
        if (size == 4)
            BinaryPrimitives.WriteUInt32LittleEndian(stats.AsSpan(offset), (uint)value);
        else
            BinaryPrimitives.WriteUInt64LittleEndian(stats.AsSpan(offset), value);
    }
}
