using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

public sealed class TaskstatsMessageDecoderTests
{
    private const ushort FamilyId = 31;

    internal static TaskstatsRecord PidRecord(uint pid, string comm) => new(TaskstatsScope.Pid, pid, ExitMessageBuilder.Stats(pid, comm, tgid: 500));

    internal static TaskstatsRecord TgidRecord(uint tgid, string comm) => new(TaskstatsScope.Tgid, tgid, ExitMessageBuilder.Stats(tgid, comm, exitCode: 3 << 8));

    /// <summary>Decodes every message of the datagram.</summary>
    internal static List<TaskstatsMessage> DecodeAll(byte[] datagram, RawStatsHandler? raw = null)
    {
        var result = new List<TaskstatsMessage>();
        foreach (var message in NetlinkMessage.Split(datagram))
            result.Add(TaskstatsMessageDecoder.Decode(message, raw));
        return result;
    }

    /// <summary>A TASKSTATS_CMD_NEW message laid out by hand: the attributes are added by <paramref name="body"/>.</summary>
    internal static byte[] Custom(Action<NetlinkMessageWriter> body, uint sequence = 9, byte command = TaskstatsProtocol.CmdNew)
    {
        var writer = new NetlinkMessageWriter(FamilyId, NetlinkFlags.None).Bytes(new GenericNetlinkHeader(command, 1).ToBytes());
        body(writer);
        return writer.ToArray(sequence);
    }

    internal static byte[] StatsBytes(TaskstatsRecord record) => TaskstatsEncoder.Encode(record.Stats, 16);

    private static void AssertSame(TaskstatsRecord expected, TaskstatsRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Scope, actual.Value.Scope);
        Assert.Equal(expected.Id, actual.Value.Id);
        Assert.Equal(StatsBytes(expected), TaskstatsEncoder.Encode(actual.Value.Stats, 16));
        Assert.Equal(560, actual.Value.Stats.PayloadLength);
    }

    [Fact]
    public void Decode_should_read_an_exit_message_with_only_AGGR_PID()
    {
        var task = PidRecord(1234, "worker");
        var datagram = ExitMessageBuilder.Build(FamilyId, sequence: 786, portId: 0, task, null);

        var message = Assert.Single(DecodeAll(datagram));

        Assert.Equal(786u, message.Sequence);
        AssertSame(task, message.Task);
        Assert.Null(message.Process);
        Assert.Equal("worker", message.Task!.Value.Stats.AcComm);
        Assert.Equal([task.Id], message.Records.Select(r => r.Id));
    }

    [Fact]
    public void Decode_should_read_AGGR_PID_and_AGGR_TGID_of_one_message()
    {
        var task = PidRecord(1235, "thread-2");
        var process = TgidRecord(500, "server");
        var datagram = ExitMessageBuilder.Build(FamilyId, sequence: 1311, portId: 0, task, process);

        var message = Assert.Single(DecodeAll(datagram));

        Assert.Equal(1311u, message.Sequence);
        AssertSame(task, message.Task);
        AssertSame(process, message.Process);
        Assert.Equal([TaskstatsScope.Pid, TaskstatsScope.Tgid], message.Records.Select(r => r.Scope));
        Assert.Equal(3u << 8, message.Process!.Value.Stats.AcExitcode);
    }

    [Fact]
    public void Decode_should_read_a_process_record_without_a_task_record()
    {
        var process = TgidRecord(500, "server");
        var datagram = ExitMessageBuilder.Build(FamilyId, 1, 0, null, process);

        var message = Assert.Single(DecodeAll(datagram));

        Assert.Null(message.Task);
        AssertSame(process, message.Process);
    }

    [Fact]
    public void Decode_should_skip_NULL_padding_attributes_anywhere()
    {
        var task = PidRecord(77, "padded");
        var datagram = Custom(w => w
            .Attribute(TaskstatsProtocol.TypeNull, [])
            .BeginNested(TaskstatsProtocol.TypeAggrPid)
                .Attribute(TaskstatsProtocol.TypeNull, [])
                .UInt32(TaskstatsProtocol.TypePid, task.Id)
                .Attribute(TaskstatsProtocol.TypeNull, [0, 0, 0, 0])
                .Attribute(TaskstatsProtocol.TypeStats, StatsBytes(task))
            .EndNested()
            .Attribute(TaskstatsProtocol.TypeNull, [0, 0, 0, 0, 0, 0, 0, 0]));

        var message = Assert.Single(DecodeAll(datagram));

        AssertSame(task, message.Task);
    }

    [Fact]
    public void Decode_should_skip_unknown_attributes_at_both_levels()
    {
        var task = PidRecord(78, "future");
        var datagram = Custom(w => w
            .Attribute(40, [1, 2, 3, 4, 5])
            .BeginNested(TaskstatsProtocol.TypeAggrPid)
                .Attribute(99, new byte[700])
                .Attribute(TaskstatsProtocol.TypeStats, StatsBytes(task))
                .BeginNested(41).UInt32(1, 1).EndNested()
                .UInt32(TaskstatsProtocol.TypePid, task.Id)
            .EndNested()
            .Attribute(0x3fff, [7]));

        var message = Assert.Single(DecodeAll(datagram));

        AssertSame(task, message.Task);
        Assert.Null(message.Process);
    }

    [Fact]
    public void Decode_should_accept_aggregates_marked_nested_and_ids_after_stats()
    {
        var task = PidRecord(79, "flags");
        var process = TgidRecord(80, "flags");
        var datagram = Custom(w => w
            .BeginNested(TaskstatsProtocol.TypeAggrTgid) // BeginNested sets NLA_F_NESTED
                .Attribute(TaskstatsProtocol.TypeStats, StatsBytes(process))
                .UInt32(TaskstatsProtocol.TypeTgid, process.Id)
            .EndNested()
            .BeginNested(TaskstatsProtocol.TypeAggrPid)
                .UInt32(TaskstatsProtocol.TypePid, task.Id)
                .Attribute(TaskstatsProtocol.TypeStats, StatsBytes(task))
            .EndNested());

        var message = Assert.Single(DecodeAll(datagram));

        AssertSame(task, message.Task);
        AssertSame(process, message.Process);
    }

    [Fact]
    public void Decode_should_read_every_message_of_a_datagram()
    {
        var datagram = NetlinkBytesOf(
            ExitMessageBuilder.Build(FamilyId, 10, 0, PidRecord(1, "a"), null),
            ExitMessageBuilder.Build(FamilyId, 11, 0, PidRecord(2, "b"), TgidRecord(2, "b")),
            ExitMessageBuilder.Build(FamilyId, 12, 0, PidRecord(3, "c"), null));

        var messages = DecodeAll(datagram);

        Assert.Equal([10u, 11u, 12u], messages.Select(m => m.Sequence));
        Assert.Equal(["a", "b", "c"], messages.Select(m => m.Task!.Value.Stats.AcComm));
        Assert.NotNull(messages[1].Process);
    }

    [Fact]
    public void Decode_should_decode_a_real_v16_capture_carried_in_AGGR_PID()
    {
        var stats = TaskstatsFixtures.RealV16Bytes();
        var datagram = Custom(w => w
            .BeginNested(TaskstatsProtocol.TypeAggrPid)
                .UInt32(TaskstatsProtocol.TypePid, 3408)
                .Attribute(TaskstatsProtocol.TypeStats, stats)
            .EndNested()
            .Attribute(TaskstatsProtocol.TypeNull, []));

        var message = Assert.Single(DecodeAll(datagram));

        Assert.Equal(3408u, message.Task!.Value.Id);
        Assert.Equal("fixture-v16", message.Task.Value.Stats.AcComm);
        Assert.Equal(16, message.Task.Value.Stats.Version);
    }

    [Fact]
    public void Decode_should_hand_the_raw_stats_bytes_of_each_record_to_the_raw_handler()
    {
        var task = PidRecord(5, "raw");
        var process = TgidRecord(6, "raw");
        var datagram = ExitMessageBuilder.Build(FamilyId, 1, 0, task, process);
        var seen = new List<(TaskstatsScope Scope, byte[] Bytes)>();

        DecodeAll(datagram, (scope, stats) => seen.Add((scope, stats.ToArray())));

        Assert.Equal([TaskstatsScope.Pid, TaskstatsScope.Tgid], seen.Select(s => s.Scope));
        Assert.Equal(StatsBytes(task), seen[0].Bytes);
        Assert.Equal(StatsBytes(process), seen[1].Bytes);
    }

    [Fact]
    public void Decode_should_reject_a_command_other_than_TASKSTATS_CMD_NEW()
    {
        var datagram = Custom(w => w.Attribute(TaskstatsProtocol.TypeNull, []), command: TaskstatsProtocol.CmdGet);

        var error = Assert.Throws<NetlinkDecodeException>(() => DecodeAll(datagram));

        Assert.Contains("got command 1", error.Message);
    }

    [Fact]
    public void Decode_should_reject_a_message_without_any_record()
    {
        var datagram = Custom(w => w.Attribute(TaskstatsProtocol.TypeNull, []).Attribute(77, [1, 2, 3, 4]));

        var error = Assert.Throws<NetlinkDecodeException>(() => DecodeAll(datagram));

        Assert.Contains("neither TASKSTATS_TYPE_AGGR_PID nor TASKSTATS_TYPE_AGGR_TGID", error.Message);
    }

    [Fact]
    public void Decode_should_reject_a_payload_too_short_for_the_generic_netlink_header()
    {
        var datagram = new NetlinkMessageWriter(FamilyId, NetlinkFlags.None).Bytes([2, 1]).ToArray(1);

        var error = Assert.Throws<NetlinkDecodeException>(() => DecodeAll(datagram));

        Assert.Contains("too short for its 4-byte header", error.Message);
    }

    [Fact]
    public void Decode_should_reject_an_aggregate_without_its_id()
    {
        var datagram = Custom(w => w
            .BeginNested(TaskstatsProtocol.TypeAggrPid)
                .Attribute(TaskstatsProtocol.TypeStats, StatsBytes(PidRecord(1, "x")))
            .EndNested());

        var error = Assert.Throws<NetlinkDecodeException>(() => DecodeAll(datagram));

        Assert.Contains("TASKSTATS_TYPE_AGGR_PID has no pid", error.Message);
    }

    [Fact]
    public void Decode_should_reject_an_aggregate_whose_id_has_the_other_scope()
    {
        // A tgid attribute inside AGGR_PID is not the pid.
        var datagram = Custom(w => w
            .BeginNested(TaskstatsProtocol.TypeAggrPid)
                .UInt32(TaskstatsProtocol.TypeTgid, 1)
                .Attribute(TaskstatsProtocol.TypeStats, StatsBytes(PidRecord(1, "x")))
            .EndNested());

        Assert.Throws<NetlinkDecodeException>(() => DecodeAll(datagram));
    }

    [Fact]
    public void Decode_should_reject_an_aggregate_without_stats()
    {
        var datagram = Custom(w => w
            .BeginNested(TaskstatsProtocol.TypeAggrTgid)
                .UInt32(TaskstatsProtocol.TypeTgid, 1)
            .EndNested());

        var error = Assert.Throws<NetlinkDecodeException>(() => DecodeAll(datagram));

        Assert.Contains("TASKSTATS_TYPE_AGGR_TGID has no TASKSTATS_TYPE_STATS", error.Message);
    }

    [Fact]
    public void Decode_should_reject_a_short_id()
    {
        var datagram = Custom(w => w
            .BeginNested(TaskstatsProtocol.TypeAggrPid)
                .UInt16(TaskstatsProtocol.TypePid, 1)
                .Attribute(TaskstatsProtocol.TypeStats, StatsBytes(PidRecord(1, "x")))
            .EndNested());

        var error = Assert.Throws<NetlinkDecodeException>(() => DecodeAll(datagram));

        Assert.Contains("u32", error.Message);
    }

    [Fact]
    public void Decode_should_reject_truncated_stats()
    {
        var datagram = Custom(w => w
            .BeginNested(TaskstatsProtocol.TypeAggrPid)
                .UInt32(TaskstatsProtocol.TypePid, 1)
                .Attribute(TaskstatsProtocol.TypeStats, StatsBytes(PidRecord(1, "x"))[..300])
            .EndNested());

        Assert.Throws<NetlinkDecodeException>(() => DecodeAll(datagram));
    }

    [Fact]
    public void DecodeAttributes_should_read_a_get_reply_after_its_generic_netlink_header()
    {
        var task = PidRecord(42, "reply");
        var datagram = ExitMessageBuilder.Build(FamilyId, 5, 1000, task, null);

        TaskstatsMessage? message = null;
        foreach (var m in NetlinkMessage.Split(datagram))
            message = TaskstatsMessageDecoder.DecodeAttributes(123, m.Payload[GenericNetlinkHeader.Size..]);

        Assert.Equal(123u, message!.Sequence);
        AssertSame(task, message.Task);
    }

    private static byte[] NetlinkBytesOf(params byte[][] messages) => messages.SelectMany(m => m).ToArray();
}
