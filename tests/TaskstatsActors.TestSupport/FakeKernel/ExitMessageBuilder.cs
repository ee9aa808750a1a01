using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.TestSupport.FakeKernel;

/// <summary>Builds <c>TASKSTATS_CMD_NEW</c> messages as the kernel sends them, for fakes and fixtures.</summary>
public static class ExitMessageBuilder
{
    /// <summary>
    /// One message with the task's record, the process record when given, and a
    /// <c>TASKSTATS_TYPE_NULL</c> padding attribute as newer kernels add.
    /// </summary>
    public static byte[] Build(ushort familyId, uint sequence, uint portId, TaskstatsRecord? task, TaskstatsRecord? process, int version = 16)
    {
        var writer = new NetlinkMessageWriter(familyId, NetlinkFlags.None)
            .Bytes(new GenericNetlinkHeader(TaskstatsProtocol.CmdNew, 1).ToBytes());
        if (task is { } t)
            Aggregate(writer, TaskstatsProtocol.TypeAggrPid, TaskstatsProtocol.TypePid, t, version);
        if (process is { } p)
            Aggregate(writer, TaskstatsProtocol.TypeAggrTgid, TaskstatsProtocol.TypeTgid, p, version);
        writer.Attribute(TaskstatsProtocol.TypeNull, ReadOnlySpan<byte>.Empty);
        return writer.ToArray(sequence, portId);
    }

    private static void Aggregate(NetlinkMessageWriter writer, ushort aggregate, ushort idType, TaskstatsRecord record, int version) =>
        writer.BeginNested(aggregate)
            .UInt32(idType, record.Id)
            .Attribute(TaskstatsProtocol.TypeStats, TaskstatsEncoder.Encode(record.Stats, version))
            .EndNested();

    /// <summary>A plausible record of a task named <paramref name="comm"/> (v16 fields filled).</summary>
    public static TaskStats Stats(uint pid, string comm, uint exitCode = 0, uint? tgid = null) => new()
    {
        Version = 16,
        AcComm = comm,
        AcPid = pid,
        AcTgid = tgid ?? pid,
        AcPpid = 1,
        AcExitcode = exitCode,
        AcUid = 1000,
        AcGid = 1000,
        CpuCount = 3,
        CpuDelayTotal = 30_000,
        AcUtime = 1_000,
        AcStime = 500,
        Nvcsw = 2,
        Nivcsw = 1,
    };
}
