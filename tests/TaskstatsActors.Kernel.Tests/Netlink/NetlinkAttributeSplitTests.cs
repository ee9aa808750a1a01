using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.Tests.Netlink;

public sealed class NetlinkAttributeSplitTests
{
    private static List<(ushort Type, byte[] Payload)> SplitAll(byte[] source)
    {
        var result = new List<(ushort, byte[])>();
        foreach (var attribute in NetlinkAttribute.Split(source))
            result.Add((attribute.Type, attribute.Payload.ToArray()));
        return result;
    }

    [Fact]
    public void Split_should_walk_attributes_at_4_byte_alignment_without_their_padding()
    {
        var source = NetlinkBytes.Concat(
            NetlinkBytes.Attribute(1, [1, 2, 3, 4, 5]),
            NetlinkBytes.Attribute(2, [6]),
            NetlinkBytes.Attribute(3, NetlinkBytes.U32(42)));
        Assert.Equal(12 + 8 + 8, source.Length);

        var attributes = SplitAll(source);

        Assert.Equal([(ushort)1, (ushort)2, (ushort)3], attributes.Select(a => a.Type));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, attributes[0].Payload);
        Assert.Equal(new byte[] { 6 }, attributes[1].Payload);
        Assert.Equal(NetlinkBytes.U32(42), attributes[2].Payload);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Split_should_accept_a_last_attribute_without_its_padding(int payloadLength)
    {
        var last = Enumerable.Range(100, payloadLength).Select(i => (byte)i).ToArray();
        var source = NetlinkBytes.Concat(NetlinkBytes.Attribute(1, [1, 2, 3]), NetlinkBytes.Attribute(2, last, pad: false));

        var attributes = SplitAll(source);

        Assert.Equal(2, attributes.Count);
        Assert.Equal(last, attributes[1].Payload);
    }

    [Fact]
    public void Split_should_yield_an_attribute_with_an_empty_payload()
    {
        var attribute = Assert.Single(SplitAll(NetlinkBytes.Attribute(6, [])));

        Assert.Equal(6, attribute.Type);
        Assert.Empty(attribute.Payload);
    }

    [Fact]
    public void Split_should_yield_nothing_for_an_empty_list()
    {
        Assert.Empty(SplitAll([]));
    }

    [Fact]
    public void Split_should_walk_nested_attributes_inside_a_payload()
    {
        var inner = NetlinkBytes.Concat(
            NetlinkBytes.Attribute(1, NetlinkBytes.U32(4242)),
            NetlinkBytes.Attribute(3, [1, 2, 3, 4, 5, 6, 7]));
        var source = NetlinkBytes.Concat(
            NetlinkBytes.Attribute(0x8000 | 4, inner),
            NetlinkBytes.Attribute(6, []));

        var outer = SplitAll(source);
        var nested = SplitAll(outer[0].Payload);

        Assert.Equal([(ushort)4, (ushort)6], outer.Select(a => a.Type));
        Assert.Equal(inner, outer[0].Payload);
        Assert.Equal([(ushort)1, (ushort)3], nested.Select(a => a.Type));
        Assert.Equal(NetlinkBytes.U32(4242), nested[0].Payload);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7 }, nested[1].Payload);
    }

    [Theory]
    [InlineData(0x8007)] // NLA_F_NESTED
    [InlineData(0x4007)] // NLA_F_NET_BYTEORDER
    [InlineData(0xC007)]
    [InlineData(0x0007)]
    public void Split_should_mask_the_nested_and_byte_order_flags_off_the_type(int rawType)
    {
        var attribute = Assert.Single(SplitAll(NetlinkBytes.Attribute((ushort)rawType, [1])));

        Assert.Equal(7, attribute.Type);
    }

    [Fact]
    public void Split_should_yield_unknown_types_for_the_caller_to_skip()
    {
        var source = NetlinkBytes.Concat(
            NetlinkBytes.Attribute(0x3fff, [1, 2]),
            NetlinkBytes.Attribute(1, NetlinkBytes.U32(7)),
            NetlinkBytes.Attribute(999, new byte[300]));

        var attributes = SplitAll(source);

        Assert.Equal([(ushort)0x3fff, (ushort)1, (ushort)999], attributes.Select(a => a.Type));
        Assert.Equal(300, attributes[2].Payload.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void Split_should_reject_a_length_shorter_than_the_attribute_header(int length)
    {
        var source = NetlinkBytes.Attribute(1, NetlinkBytes.U32(7));
        source[0] = (byte)length;
        source[1] = 0;

        var error = Assert.Throws<NetlinkDecodeException>(() => SplitAll(source));

        Assert.Contains($"claims length {length}", error.Message);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(0xffff)]
    public void Split_should_reject_a_length_beyond_the_list(int length)
    {
        var source = NetlinkBytes.Attribute(1, NetlinkBytes.U32(7));
        source[0] = (byte)length;
        source[1] = (byte)(length >> 8);

        var error = Assert.Throws<NetlinkDecodeException>(() => SplitAll(source));

        Assert.Contains("8 bytes remain", error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Split_should_reject_stray_bytes_too_short_for_an_attribute_header(int stray)
    {
        var source = NetlinkBytes.Concat(NetlinkBytes.Attribute(1, NetlinkBytes.U32(7)), new byte[stray]);

        var error = Assert.Throws<NetlinkDecodeException>(() => SplitAll(source));

        Assert.Contains($"{stray} stray bytes", error.Message);
    }

    [Fact]
    public void GetUInt32_should_read_a_little_endian_u32()
    {
        foreach (var attribute in NetlinkAttribute.Split(NetlinkBytes.Attribute(1, [0x78, 0x56, 0x34, 0x12])))
            Assert.Equal(0x12345678u, attribute.GetUInt32());
    }

    [Fact]
    public void GetUInt16_should_read_a_little_endian_u16()
    {
        foreach (var attribute in NetlinkAttribute.Split(NetlinkBytes.Attribute(1, [0x34, 0x12])))
            Assert.Equal((ushort)0x1234, attribute.GetUInt16());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void GetUInt32_should_reject_a_short_payload(int length)
    {
        var source = NetlinkBytes.Attribute(5, new byte[length]);

        var error = Assert.Throws<NetlinkDecodeException>(() =>
        {
            foreach (var attribute in NetlinkAttribute.Split(source))
                attribute.GetUInt32();
        });

        Assert.Contains($"attribute 5 should hold a u32 (4 bytes) but has {length}", error.Message);
    }

    [Fact]
    public void GetUInt16_should_reject_a_short_payload()
    {
        var source = NetlinkBytes.Attribute(5, [1]);

        var error = Assert.Throws<NetlinkDecodeException>(() =>
        {
            foreach (var attribute in NetlinkAttribute.Split(source))
                attribute.GetUInt16();
        });

        Assert.Contains("u16", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', (byte)'b', 0 }, "ab")]
    [InlineData(new byte[] { (byte)'a', (byte)'b' }, "ab")]
    [InlineData(new byte[] { (byte)'a', 0, (byte)'x', (byte)'y' }, "a")]
    [InlineData(new byte[] { 0 }, "")]
    [InlineData(new byte[0], "")]
    public void GetString_should_stop_at_the_first_NUL(byte[] payload, string expected)
    {
        foreach (var attribute in NetlinkAttribute.Split(NetlinkBytes.Attribute(2, payload)))
            Assert.Equal(expected, attribute.GetString());
    }
}
