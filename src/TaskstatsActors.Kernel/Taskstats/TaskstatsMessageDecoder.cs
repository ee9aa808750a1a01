using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>Sees the raw <c>struct taskstats</c> bytes of each record as it is decoded (for <c>getdelays -w</c> style capture).</summary>
public delegate void RawStatsHandler(TaskstatsScope scope, ReadOnlySpan<byte> stats);

/// <summary>Decodes <c>TASKSTATS_CMD_NEW</c> messages; unknown and <c>TASKSTATS_TYPE_NULL</c> attributes are skipped.</summary>
public static class TaskstatsMessageDecoder
{
    /// <summary>
    /// Decodes one netlink message of the taskstats family. Throws <see cref="NetlinkDecodeException"/>
    /// for anything malformed: a wrong command, a record without its id or stats, no record at all.
    /// </summary>
    public static TaskstatsMessage Decode(in NetlinkMessage message, RawStatsHandler? raw = null)
    {
        var genl = GenericNetlinkHeader.Read(message.Payload);
        if (genl.Command != TaskstatsProtocol.CmdNew)
            throw new NetlinkDecodeException($"expected TASKSTATS_CMD_NEW (2), got command {genl.Command}");
        return DecodeAttributes(message.Header.Sequence, message.Payload[GenericNetlinkHeader.Size..], raw);
    }

    /// <summary>Decodes the attributes of a <c>TASKSTATS_CMD_NEW</c> payload (after the generic netlink header).</summary>
    public static TaskstatsMessage DecodeAttributes(uint sequence, ReadOnlySpan<byte> attributes, RawStatsHandler? raw = null)
    {
        TaskstatsRecord? task = null, process = null;
        foreach (var attribute in NetlinkAttribute.Split(attributes))
        {
            switch (attribute.Type)
            {
                case TaskstatsProtocol.TypeAggrPid:
                    task = DecodeAggregate(attribute.Payload, TaskstatsScope.Pid, TaskstatsProtocol.TypePid, raw);
                    break;
                case TaskstatsProtocol.TypeAggrTgid:
                    process = DecodeAggregate(attribute.Payload, TaskstatsScope.Tgid, TaskstatsProtocol.TypeTgid, raw);
                    break;
                // TASKSTATS_TYPE_NULL pads for alignment; other types are from newer kernels.
            }
        }
        if (task is null && process is null)
            throw new NetlinkDecodeException("taskstats message holds neither TASKSTATS_TYPE_AGGR_PID nor TASKSTATS_TYPE_AGGR_TGID");
        return new TaskstatsMessage(sequence, task, process);
    }

    private static TaskstatsRecord DecodeAggregate(ReadOnlySpan<byte> nested, TaskstatsScope scope, ushort idType, RawStatsHandler? raw)
    {
        uint? id = null;
        TaskStats? stats = null;
        foreach (var attribute in NetlinkAttribute.Split(nested))
        {
            if (attribute.Type == idType)
                id = attribute.GetUInt32();
            else if (attribute.Type == TaskstatsProtocol.TypeStats)
            {
                stats = TaskstatsDecoder.Decode(attribute.Payload);
                raw?.Invoke(scope, attribute.Payload);
            }
        }
        var name = scope == TaskstatsScope.Pid ? "TASKSTATS_TYPE_AGGR_PID" : "TASKSTATS_TYPE_AGGR_TGID";
        if (id is null)
            throw new NetlinkDecodeException($"{name} has no {(scope == TaskstatsScope.Pid ? "pid" : "tgid")} attribute");
        if (stats is null)
            throw new NetlinkDecodeException($"{name} has no TASKSTATS_TYPE_STATS attribute");
        return new TaskstatsRecord(scope, id.Value, stats);
    }
}
