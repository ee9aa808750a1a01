using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.Tests.Netlink;

public sealed class NetlinkMessageSplitTests
{
    private static List<(NetlinkHeader Header, byte[] Payload)> SplitAll(byte[] datagram)
    {
        var result = new List<(NetlinkHeader, byte[])>();
        foreach (var message in NetlinkMessage.Split(datagram))
            result.Add((message.Header, message.Payload.ToArray()));
        return result;
    }

    [Fact]
    public void Split_should_yield_each_message_at_4_byte_alignment_without_its_padding()
    {
        var datagram = NetlinkBytes.Concat(
            NetlinkBytes.Message(30, 7, 1234, [1, 2, 3, 4, 5], flags: NetlinkFlags.Multi),
            NetlinkBytes.Message(31, 8, 1234, [9, 9, 9, 9]));
        Assert.Equal(24 + 20, datagram.Length);

        var messages = SplitAll(datagram);

        Assert.Equal(2, messages.Count);
        Assert.Equal(new NetlinkHeader(21, 30, NetlinkFlags.Multi, 7, 1234), messages[0].Header);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, messages[0].Payload);
        Assert.Equal(new NetlinkHeader(20, 31, NetlinkFlags.None, 8, 1234), messages[1].Header);
        Assert.Equal(new byte[] { 9, 9, 9, 9 }, messages[1].Payload);
    }

    [Fact]
    public void Split_should_accept_a_last_message_without_its_padding()
    {
        var datagram = NetlinkBytes.Concat(
            NetlinkBytes.Message(30, 1, 0, [1, 2, 3, 4, 5, 6]),
            NetlinkBytes.Message(31, 2, 0, [7, 8, 9], pad: false));
        Assert.Equal(24 + 19, datagram.Length);

        var messages = SplitAll(datagram);

        Assert.Equal(2, messages.Count);
        Assert.Equal(new byte[] { 7, 8, 9 }, messages[1].Payload);
    }

    [Fact]
    public void Split_should_yield_a_message_with_an_empty_payload()
    {
        var messages = SplitAll(NetlinkBytes.Message(NetlinkMessageType.Done, 5, 0, []));

        var message = Assert.Single(messages);
        Assert.Equal(NetlinkMessageType.Done, message.Header.Type);
        Assert.Empty(message.Payload);
    }

    [Fact]
    public void Split_should_yield_nothing_for_an_empty_datagram()
    {
        Assert.Empty(SplitAll([]));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(15u)]
    public void Split_should_reject_a_length_shorter_than_the_header(uint length)
    {
        var datagram = NetlinkBytes.Message(30, 1, 0, [1, 2, 3, 4]);
        new NetlinkHeader(length, 30, NetlinkFlags.None, 1, 0).Write(datagram);

        var error = Assert.Throws<NetlinkDecodeException>(() => SplitAll(datagram));

        Assert.Contains($"claims length {length}", error.Message);
    }

    [Theory]
    [InlineData(21u)]
    [InlineData(1000u)]
    [InlineData(uint.MaxValue)]
    [InlineData(0x8000_0000u)]
    public void Split_should_reject_a_length_beyond_the_datagram(uint length)
    {
        var datagram = NetlinkBytes.Message(30, 1, 0, [1, 2, 3, 4]);
        new NetlinkHeader(length, 30, NetlinkFlags.None, 1, 0).Write(datagram);

        var error = Assert.Throws<NetlinkDecodeException>(() => SplitAll(datagram));

        Assert.Contains("20 bytes remain", error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(15)]
    public void Split_should_reject_stray_bytes_after_the_last_message(int stray)
    {
        var datagram = NetlinkBytes.Concat(NetlinkBytes.Message(30, 1, 0, [1, 2, 3, 4]), new byte[stray]);

        var error = Assert.Throws<NetlinkDecodeException>(() => SplitAll(datagram));

        Assert.Contains($"{stray} stray bytes", error.Message);
    }

    [Fact]
    public void Split_should_yield_the_messages_before_a_malformed_one()
    {
        var good = NetlinkBytes.Message(30, 1, 0, [1, 2, 3, 4]);
        var bad = NetlinkBytes.Message(31, 2, 0, [5, 6, 7, 8]);
        new NetlinkHeader(99, 31, NetlinkFlags.None, 2, 0).Write(bad);
        var seen = new List<uint>();

        Assert.Throws<NetlinkDecodeException>(() =>
        {
            foreach (var message in NetlinkMessage.Split(NetlinkBytes.Concat(good, bad)))
                seen.Add(message.Header.Sequence);
        });

        Assert.Equal([1u], seen);
    }

    [Fact]
    public void Header_should_round_trip_through_its_wire_form()
    {
        var header = new NetlinkHeader(0x11223344, 0x5566, NetlinkFlags.Request | NetlinkFlags.Ack, 0xdeadbeef, 0xcafef00d);
        var bytes = new byte[NetlinkHeader.Size];

        header.Write(bytes);

        Assert.Equal(header, NetlinkHeader.Read(bytes));
        Assert.Equal(new byte[] { 0x44, 0x33, 0x22, 0x11, 0x66, 0x55, 0x05, 0x00, 0xef, 0xbe, 0xad, 0xde, 0x0d, 0xf0, 0xfe, 0xca }, bytes);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 4)]
    [InlineData(4, 4)]
    [InlineData(5, 8)]
    [InlineData(21, 24)]
    [InlineData(560, 560)]
    public void Align_should_round_up_to_a_multiple_of_4(int length, int aligned)
    {
        Assert.Equal(aligned, NetlinkHeader.Align(length));
    }
}
