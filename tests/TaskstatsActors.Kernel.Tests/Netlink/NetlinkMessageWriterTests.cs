using CsCheck;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.Tests.Netlink;

public sealed class NetlinkMessageWriterTests
{
    private static (NetlinkHeader Header, byte[] Payload) Single(byte[] datagram)
    {
        var result = new List<(NetlinkHeader, byte[])>();
        foreach (var message in NetlinkMessage.Split(datagram))
            result.Add((message.Header, message.Payload.ToArray()));
        return Assert.Single(result);
    }

    private static List<(ushort Type, byte[] Payload)> Attributes(ReadOnlySpan<byte> source)
    {
        var result = new List<(ushort, byte[])>();
        foreach (var attribute in NetlinkAttribute.Split(source))
            result.Add((attribute.Type, attribute.Payload.ToArray()));
        return result;
    }

    [Fact]
    public void ToArray_should_fill_in_the_header()
    {
        var bytes = new NetlinkMessageWriter(0x1c, NetlinkFlags.Request | NetlinkFlags.Ack)
            .Bytes([1, 2, 0, 0])
            .ToArray(sequence: 77, portId: 4321);

        Assert.Equal(20, bytes.Length);
        var (header, payload) = Single(bytes);
        Assert.Equal(new NetlinkHeader(20, 0x1c, NetlinkFlags.Request | NetlinkFlags.Ack, 77, 4321), header);
        Assert.Equal(new byte[] { 1, 2, 0, 0 }, payload);
    }

    [Fact]
    public void Writer_should_round_trip_every_kind_of_attribute()
    {
        var bytes = new NetlinkMessageWriter(31, NetlinkFlags.Request)
            .Bytes([1, 1, 0, 0])
            .UInt16(1, 0xbeef)
            .UInt32(2, 0xdeadbeef)
            .String(3, "0-1")
            .Attribute(4, [9, 8, 7, 6, 5])
            .BeginNested(5)
                .UInt32(1, 42)
                .BeginNested(2)
                    .String(1, "inner")
                .EndNested()
                .Attribute(3, [])
            .EndNested()
            .Attribute(6, [])
            .ToArray(1);

        var (header, payload) = Single(bytes);
        Assert.Equal((uint)bytes.Length, header.Length);
        Assert.Equal(0, bytes.Length % 4);
        var attributes = Attributes(payload.AsSpan(4));
        Assert.Equal([(ushort)1, (ushort)2, (ushort)3, (ushort)4, (ushort)5, (ushort)6], attributes.Select(a => a.Type));
        Assert.Equal(NetlinkBytes.U16(0xbeef), attributes[0].Payload);
        Assert.Equal(NetlinkBytes.U32(0xdeadbeef), attributes[1].Payload);
        Assert.Equal("0-1\0"u8.ToArray(), attributes[2].Payload);
        Assert.Equal(new byte[] { 9, 8, 7, 6, 5 }, attributes[3].Payload);
        Assert.Empty(attributes[5].Payload);

        var nested = Attributes(attributes[4].Payload);
        Assert.Equal([(ushort)1, (ushort)2, (ushort)3], nested.Select(a => a.Type));
        Assert.Equal(NetlinkBytes.U32(42), nested[0].Payload);
        Assert.Empty(nested[2].Payload);
        var innermost = Assert.Single(Attributes(nested[1].Payload));
        Assert.Equal("inner\0"u8.ToArray(), innermost.Payload);
    }

    [Fact]
    public void Writer_should_pad_attributes_with_zeros_and_set_the_nested_flag()
    {
        var bytes = new NetlinkMessageWriter(31, NetlinkFlags.None)
            .Attribute(1, [0xff, 0xff, 0xff, 0xff, 0xff])
            .BeginNested(4).UInt32(1, 1).EndNested()
            .ToArray(0);

        // header (16) + attribute 1 (9 bytes padded to 12) + nested (4 + 8)
        Assert.Equal(16 + 12 + 12, bytes.Length);
        Assert.Equal(new byte[] { 9, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0 }, bytes[16..28]);
        Assert.Equal(new byte[] { 12, 0, 4, 0x80 }, bytes[28..32]);
    }

    [Fact]
    public void Writer_should_grow_past_its_initial_buffer()
    {
        var big = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();

        var bytes = new NetlinkMessageWriter(31, NetlinkFlags.None)
            .UInt32(1, 1)
            .Attribute(2, big)
            .UInt32(3, 3)
            .ToArray(0);

        var attributes = Attributes(Single(bytes).Payload);
        Assert.Equal(big, attributes[1].Payload);
        Assert.Equal(NetlinkBytes.U32(3), attributes[2].Payload);
    }

    [Fact]
    public void ToArray_should_refuse_a_nested_attribute_left_open()
    {
        var writer = new NetlinkMessageWriter(31, NetlinkFlags.None).BeginNested(4).UInt32(1, 1);

        Assert.Throws<InvalidOperationException>(() => writer.ToArray(0));
    }

    [Fact]
    public void ToArray_should_be_repeatable_with_another_sequence_number()
    {
        var writer = new NetlinkMessageWriter(31, NetlinkFlags.Request).UInt32(1, 5);

        var first = writer.ToArray(1, 10);
        var second = writer.ToArray(2, 10);

        Assert.Equal(first[16..], second[16..]);
        Assert.Equal(1u, Single(first).Header.Sequence);
        Assert.Equal(2u, Single(second).Header.Sequence);
    }

    [Fact]
    public void Writer_should_round_trip_random_attribute_lists()
    {
        var attribute = Gen.Select(Gen.UShort[0, 0x3fff], Gen.Byte.Array[0, 300]);
        Gen.Select(attribute.Array[0, 20], Gen.UInt, Gen.UInt).Sample((list, sequence, portId) =>
        {
            var writer = new NetlinkMessageWriter(0x42, NetlinkFlags.Request);
            foreach (var (type, payload) in list)
                writer.Attribute(type, payload);
            var bytes = writer.ToArray(sequence, portId);

            var (header, body) = Single(bytes);
            Assert.Equal(new NetlinkHeader((uint)bytes.Length, 0x42, NetlinkFlags.Request, sequence, portId), header);
            var decoded = Attributes(body);
            Assert.Equal(list.Length, decoded.Count);
            for (var i = 0; i < list.Length; i++)
            {
                Assert.Equal(list[i].Item1, decoded[i].Type);
                Assert.Equal(list[i].Item2, decoded[i].Payload);
            }
        }, iter: 2_000);
    }
}
