using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.Tests.Netlink;

/// <summary>How <see cref="GenericNetlinkConnection"/> turns answers into results and errors.</summary>
public sealed class NetlinkErrorTests
{
    private const ushort FamilyId = 0x1d;

    private static NetlinkMessageWriter Request() =>
        new NetlinkMessageWriter(FamilyId, NetlinkFlags.Request).Bytes(new GenericNetlinkHeader(1, 1).ToBytes()).UInt32(1, 42);

    private static byte[] Reply(NetlinkHeader request, byte marker, NetlinkFlags flags = NetlinkFlags.None, uint? sequence = null, uint? portId = null) =>
        NetlinkBytes.Message(FamilyId, sequence ?? request.Sequence, portId ?? request.PortId, [2, 1, 0, 0, marker], flags: flags);

    private sealed class RecordingHandler : INetlinkEventHandler
    {
        public List<(NetlinkHeader Header, byte[] Payload)> Messages { get; } = [];
        public int Overflows { get; private set; }
        public void OnMessage(in NetlinkMessage message) => Messages.Add((message.Header, message.Payload.ToArray()));
        public void OnOverflow() => Overflows++;
    }

    [Fact]
    public async Task An_NLMSG_ERROR_with_EPERM_should_become_a_NetlinkErrorException_that_names_CAP_NET_ADMIN()
    {
        var socket = new ScriptedNetlinkSocket(request => [NetlinkBytes.Error(Errno.EPERM, request.Sequence, request.PortId)]);
        var connection = new GenericNetlinkConnection(socket);

        var error = await Assert.ThrowsAsync<NetlinkErrorException>(() =>
            connection.RequestAsync(Request(), "TASKSTATS_CMD_GET pid 42", expectReply: true, null));

        Assert.Equal(Errno.EPERM, error.Errno);
        Assert.Equal("TASKSTATS_CMD_GET pid 42", error.Operation);
        Assert.Equal("TASKSTATS_CMD_GET pid 42: needs CAP_NET_ADMIN (run as root or grant the capability) (EPERM)", error.Message);
    }

    [Theory]
    [InlineData(Errno.ESRCH, "no such task", "(ESRCH)")]
    [InlineData(Errno.EACCES, "CAP_NET_ADMIN", "(EACCES)")]
    [InlineData(Errno.ENOENT, "not found", "(ENOENT)")]
    [InlineData(Errno.EINVAL, "invalid", "(EINVAL)")]
    [InlineData(Errno.ENOBUFS, "overflowed", "(ENOBUFS)")]
    [InlineData(42, "", "(errno 42)")]
    public async Task An_NLMSG_ERROR_should_carry_its_errno_and_a_human_message(int errno, string explanation, string name)
    {
        var socket = new ScriptedNetlinkSocket(request => [NetlinkBytes.Error(errno, request.Sequence, request.PortId)]);
        var connection = new GenericNetlinkConnection(socket);

        var error = await Assert.ThrowsAsync<NetlinkErrorException>(() =>
            connection.RequestAsync(Request(), "doing it", expectReply: true, null));

        Assert.Equal(errno, error.Errno);
        Assert.StartsWith("doing it: ", error.Message);
        Assert.Contains(explanation, error.Message);
        Assert.EndsWith(name, error.Message);
    }

    [Fact]
    public async Task An_acknowledgement_should_complete_a_request_without_replies()
    {
        var socket = new ScriptedNetlinkSocket(request => [NetlinkBytes.Error(0, request.Sequence, request.PortId)]);
        var connection = new GenericNetlinkConnection(socket);

        var replies = await connection.RequestAsync(Request(), "registering", expectReply: false, null);

        Assert.Empty(replies);
    }

    [Fact]
    public async Task An_NLMSG_ERROR_too_short_for_its_errno_should_be_a_decode_error()
    {
        var socket = new ScriptedNetlinkSocket(request => [NetlinkBytes.Message(NetlinkMessageType.Error, request.Sequence, request.PortId, [0xff, 0xff])]);
        var connection = new GenericNetlinkConnection(socket);

        var error = await Assert.ThrowsAsync<NetlinkDecodeException>(() => connection.RequestAsync(Request(), "getting", expectReply: true, null));

        Assert.Contains("NLMSG_ERROR with 2 payload bytes", error.Message);
    }

    [Fact]
    public async Task A_request_should_carry_the_request_flag_the_port_id_and_a_new_sequence_number_each_time()
    {
        var socket = new ScriptedNetlinkSocket(request => [Reply(request, 1)]) { PortId = 4242 };
        var connection = new GenericNetlinkConnection(socket);

        await connection.RequestAsync(Request(), "first", expectReply: true, null);
        await connection.RequestAsync(Request(), "second", expectReply: true, null);

        var first = NetlinkHeader.Read(socket.Sent[0]);
        var second = NetlinkHeader.Read(socket.Sent[1]);
        Assert.Equal(4242u, first.PortId);
        Assert.True(first.Flags.HasFlag(NetlinkFlags.Request));
        Assert.Equal(unchecked(first.Sequence + 1), second.Sequence);
    }

    [Fact]
    public async Task A_reply_should_return_its_payload_from_the_generic_netlink_header_on()
    {
        var socket = new ScriptedNetlinkSocket(request => [Reply(request, 9)]);
        var connection = new GenericNetlinkConnection(socket);

        var replies = await connection.RequestAsync(Request(), "getting", expectReply: true, null);

        Assert.Equal(new byte[] { 2, 1, 0, 0, 9 }, Assert.Single(replies));
    }

    [Fact]
    public async Task Messages_of_other_sequence_numbers_or_ports_should_go_to_the_event_handler()
    {
        var socket = new ScriptedNetlinkSocket(request =>
        [
            Reply(request, 1, sequence: 5, portId: 0),                      // an exit broadcast
            NetlinkBytes.Concat(Reply(request, 2, sequence: request.Sequence, portId: 0), Reply(request, 3, sequence: request.Sequence - 1)),
            Reply(request, 4),
        ]);
        var connection = new GenericNetlinkConnection(socket);
        var events = new RecordingHandler();

        var replies = await connection.RequestAsync(Request(), "getting", expectReply: true, events);

        Assert.Equal(new byte[] { 2, 1, 0, 0, 4 }, Assert.Single(replies));
        Assert.Equal([(byte)1, (byte)2, (byte)3], events.Messages.Select(m => m.Payload[4]));
        Assert.Equal(5u, events.Messages[0].Header.Sequence);
    }

    [Fact]
    public async Task A_multipart_reply_should_collect_every_part_until_NLMSG_DONE()
    {
        var socket = new ScriptedNetlinkSocket(request =>
        [
            NetlinkBytes.Concat(Reply(request, 1, NetlinkFlags.Multi), Reply(request, 2, NetlinkFlags.Multi)),
            NetlinkBytes.Concat(Reply(request, 3, NetlinkFlags.Multi), NetlinkBytes.Message(NetlinkMessageType.Done, request.Sequence, request.PortId, [0, 0, 0, 0])),
        ]);
        var connection = new GenericNetlinkConnection(socket);

        var replies = await connection.RequestAsync(Request(), "dumping", expectReply: true, null);

        Assert.Equal([(byte)1, (byte)2, (byte)3], replies.Select(r => r[4]));
    }

    [Fact]
    public async Task An_overflow_while_waiting_should_be_reported_to_the_event_handler_and_the_wait_go_on()
    {
        var socket = new ScriptedNetlinkSocket(request => [new NetlinkOverflowException(), Reply(request, 1)]);
        var connection = new GenericNetlinkConnection(socket);
        var events = new RecordingHandler();

        var replies = await connection.RequestAsync(Request(), "getting", expectReply: true, events);

        Assert.Single(replies);
        Assert.Equal(1, events.Overflows);
    }

    [Fact]
    public async Task A_kernel_that_does_not_answer_should_give_a_TimeoutException_naming_the_operation()
    {
        var socket = new ScriptedNetlinkSocket(_ => []);
        var connection = new GenericNetlinkConnection(socket) { Timeout = TimeSpan.FromMilliseconds(200) };

        var error = await Assert.ThrowsAsync<TimeoutException>(() => connection.RequestAsync(Request(), "registering cpumask 0-1", expectReply: false, null));

        Assert.StartsWith("registering cpumask 0-1: the kernel did not answer", error.Message);
    }

    [Fact]
    public async Task Cancelling_a_request_should_throw_OperationCanceledException_not_a_timeout()
    {
        var socket = new ScriptedNetlinkSocket(_ => []);
        var connection = new GenericNetlinkConnection(socket);
        using var cancel = new CancellationTokenSource();
        var request = connection.RequestAsync(Request(), "getting", expectReply: true, null, cancel.Token);

        cancel.Cancel();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => request);
        Assert.IsAssignableFrom<OperationCanceledException>(error);
    }

    [Fact]
    public async Task ResolveFamilyAsync_should_read_id_version_and_max_attribute_and_skip_unknown_attributes()
    {
        var socket = new ScriptedNetlinkSocket(request =>
        {
            var reply = new NetlinkMessageWriter(0x10, NetlinkFlags.None)
                .Bytes(new GenericNetlinkHeader(1, 2).ToBytes())
                .String(2, "TASKSTATS")
                .UInt16(1, 0x1d)
                .UInt32(3, 1)
                .UInt32(4, 4)   // CTRL_ATTR_HDRSIZE
                .UInt32(5, 4)
                .BeginNested(6).BeginNested(1).UInt32(1, 1).UInt32(2, 0x0b).EndNested().EndNested() // CTRL_ATTR_OPS
                .Attribute(0x300, [1, 2, 3]) // a type from the future
                .ToArray(request.Sequence, request.PortId);
            return [reply];
        });
        var connection = new GenericNetlinkConnection(socket);

        var family = await connection.ResolveFamilyAsync("TASKSTATS");

        Assert.Equal(new GenericNetlinkFamily("TASKSTATS", 0x1d, 1, 4), family);
        var sent = socket.Sent.Single();
        Assert.Equal(0x10, NetlinkHeader.Read(sent).Type);
        Assert.Equal(3, sent[NetlinkHeader.Size]); // CTRL_CMD_GETFAMILY
    }

    [Fact]
    public async Task ResolveFamilyAsync_should_report_ENOENT_for_an_unknown_family()
    {
        var socket = new ScriptedNetlinkSocket(request => [NetlinkBytes.Error(Errno.ENOENT, request.Sequence, request.PortId)]);
        var connection = new GenericNetlinkConnection(socket);

        var error = await Assert.ThrowsAsync<NetlinkErrorException>(() => connection.ResolveFamilyAsync("NOPE"));

        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Contains("NOPE", error.Message);
    }

    [Fact]
    public async Task ResolveFamilyAsync_should_reject_an_answer_without_a_family_id()
    {
        var socket = new ScriptedNetlinkSocket(request =>
            [new NetlinkMessageWriter(0x10, NetlinkFlags.None).Bytes(new GenericNetlinkHeader(1, 2).ToBytes()).String(2, "TASKSTATS").ToArray(request.Sequence, request.PortId)]);
        var connection = new GenericNetlinkConnection(socket);

        var error = await Assert.ThrowsAsync<NetlinkDecodeException>(() => connection.ResolveFamilyAsync("TASKSTATS"));

        Assert.Contains("without a family id", error.Message);
    }

    [Fact]
    public void NetlinkErrorException_should_say_operation_explanation_and_errno_name()
    {
        var error = new NetlinkErrorException("TASKSTATS_CMD_GET pid 7", Errno.ESRCH);

        Assert.Equal("TASKSTATS_CMD_GET pid 7: no such task (the process has exited or never existed) (ESRCH)", error.Message);
        Assert.Equal(Errno.ESRCH, error.Errno);
    }

    [Fact]
    public void Errno_should_name_known_values_and_number_unknown_ones()
    {
        Assert.Equal("EPERM", Errno.Name(1));
        Assert.Equal("ENOBUFS", Errno.Name(105));
        Assert.Equal("errno 4095", Errno.Name(4095));
        Assert.Contains("CAP_NET_ADMIN", Errno.Explain(Errno.EPERM));
    }
}
