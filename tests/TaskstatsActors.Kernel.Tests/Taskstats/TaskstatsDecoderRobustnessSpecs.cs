using System.Buffers.Binary;
using CsCheck;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

/// <summary>Whatever bytes arrive, the decoder gives a full record or a <see cref="NetlinkDecodeException"/>.</summary>
public sealed class TaskstatsDecoderRobustnessSpecs
{
    [Fact]
    public void Every_truncation_of_a_v16_record_should_be_a_decode_error()
    {
        var bytes = TaskstatsFixtures.RealV16Bytes();

        for (var length = 0; length < bytes.Length; length++)
        {
            var error = Assert.Throws<NetlinkDecodeException>(() => TaskstatsDecoder.Decode(bytes.AsSpan(0, length)));
            Assert.False(TaskstatsDecoder.TryDecode(bytes.AsSpan(0, length), out var stats, out var message));
            Assert.Null(stats);
            Assert.Equal(error.Message, message);
            if (length >= 2)
                Assert.Contains("version 16 needs 560 bytes", message);
        }
    }

    [Fact]
    public void Version_0_should_be_a_decode_error()
    {
        var error = Assert.Throws<NetlinkDecodeException>(() => TaskstatsDecoder.Decode(new byte[688]));

        Assert.Contains("version 0", error.Message);
    }

    [Fact]
    public void A_newer_version_should_decode_as_17_and_ignore_its_tail()
    {
        var bytes = TaskstatsEncoder.Encode(TaskstatsEncoderSpecs.FullRecord(seed: 2), 17).Concat(new byte[40]).ToArray();
        bytes.AsSpan(688).Fill(0xEE);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, 18);

        var stats = TaskstatsDecoder.Decode(bytes);

        Assert.Equal(18, stats.Version);
        Assert.Equal(728, stats.PayloadLength);
        Assert.NotNull(stats.IrqDelayMaxTs);
        Assert.Equal(TaskstatsEncoderSpecs.FullRecord(seed: 2).IrqDelayMaxTs, stats.IrqDelayMaxTs);
    }

    [Fact]
    public void A_newer_version_shorter_than_17_should_be_a_decode_error()
    {
        var bytes = new byte[600];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, 18);

        var error = Assert.Throws<NetlinkDecodeException>(() => TaskstatsDecoder.Decode(bytes));

        Assert.Contains("decoded as version 17", error.Message);
    }

    [Fact]
    public void Random_bytes_should_decode_or_fail_with_a_decode_error_only()
    {
        Gen.Byte.Array[0, 800].Sample(DecodesOrFailsCleanly, iter: 5_000);
    }

    [Fact]
    public void Random_bytes_with_plausible_versions_should_decode_or_fail_with_a_decode_error_only()
    {
        // Most random leading u16 are newer-than-17 versions; this drives every known layout too.
        Gen.Select(Gen.UShort[0, 20], Gen.Int[0, 800]).SelectMany((version, length) =>
            Gen.Byte.Array[length].Select(bytes =>
            {
                if (bytes.Length >= 2)
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes, version);
                return bytes;
            }))
            .Sample(DecodesOrFailsCleanly, iter: 5_000);
    }

    private static void DecodesOrFailsCleanly(byte[] bytes)
    {
        TaskStats stats;
        try
        {
            stats = TaskstatsDecoder.Decode(bytes);
        }
        catch (NetlinkDecodeException)
        {
            Assert.False(TaskstatsDecoder.TryDecode(bytes, out _, out _));
            return;
        }
        var layout = TaskstatsLayout.ForVersion(Math.Min((int)stats.Version, TaskstatsLayout.LatestVersion));
        Assert.True(bytes.Length >= layout.Size);
        Assert.Equal(bytes.Length, stats.PayloadLength);
        Assert.Equal(layout.Version >= 2, stats.AcComm is not null);
    }
}
