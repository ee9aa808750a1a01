using System.Buffers.Binary;
using CsCheck;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

/// <summary>
/// Whatever bytes arrive, <see cref="NetlinkMessage.Split"/> + <see cref="TaskstatsMessageDecoder.Decode"/>
/// give whole messages or a <see cref="NetlinkDecodeException"/>: never another exception, never a hang,
/// never a record that differs from what was sent.
/// </summary>
public sealed class TaskstatsMessageDecoderPropertyTests
{
    private const ushort FamilyId = 31;

    // Generous: thousands of cases take well under a second each; a hang fails instead of blocking the run.
    private static readonly TimeSpan HangLimit = TimeSpan.FromMinutes(2);

    private static readonly TaskstatsRecord Task = TaskstatsMessageDecoderTests.PidRecord(4242, "victim");
    private static readonly TaskstatsRecord Process = TaskstatsMessageDecoderTests.TgidRecord(4240, "victim");

    /// <summary>A real exit message: AGGR_PID, AGGR_TGID and a NULL pad, as the kernel lays them out.</summary>
    private static readonly byte[] Valid = ExitMessageBuilder.Build(FamilyId, 1311, 0, Task, Process);

    private static readonly byte[][] OriginalStats =
        [TaskstatsMessageDecoderTests.StatsBytes(Task), TaskstatsMessageDecoderTests.StatsBytes(Process)];

    /// <summary>Offsets of every attribute header in <see cref="Valid"/>, nested ones included.</summary>
    private static readonly int[] AttributeOffsets = FindAttributeOffsets(Valid);

    private static int[] FindAttributeOffsets(byte[] message)
    {
        var offsets = new List<int>();
        void Walk(int start, int end, int depth)
        {
            var offset = start;
            while (offset + 4 <= end)
            {
                var length = BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(offset));
                var type = BinaryPrimitives.ReadUInt16LittleEndian(message.AsSpan(offset + 2)) & 0x3fff;
                offsets.Add(offset);
                if (depth == 0 && type is TaskstatsProtocol.TypeAggrPid or TaskstatsProtocol.TypeAggrTgid)
                    Walk(offset + 4, offset + length, 1);
                offset += NetlinkHeader.Align(length);
            }
        }
        Walk(NetlinkHeader.Size + 4, message.Length, 0);
        return [.. offsets];
    }

    /// <summary>
    /// Splits and decodes everything; returns the decoded messages, or null for a <see cref="NetlinkDecodeException"/>.
    /// Any other exception escapes and fails the property. Raw stats bytes seen are collected per message.
    /// </summary>
    private static List<(TaskstatsMessage Message, List<byte[]> Raw)>? DecodeOrNull(byte[] datagram)
    {
        var result = new List<(TaskstatsMessage, List<byte[]>)>();
        try
        {
            foreach (var message in NetlinkMessage.Split(datagram))
            {
                var raw = new List<byte[]>();
                var decoded = TaskstatsMessageDecoder.Decode(message, (_, stats) => raw.Add(stats.ToArray()));
                result.Add((decoded, raw));
            }
            return result;
        }
        catch (NetlinkDecodeException)
        {
            return null;
        }
    }

    /// <summary>A first message that decoded must hold only whole, unchanged records of the valid message.</summary>
    private static void AssertFirstIsWholeOrAbsent(List<(TaskstatsMessage Message, List<byte[]> Raw)>? decoded)
    {
        if (decoded is null || decoded.Count == 0)
            return;
        var (message, raw) = decoded[0];
        Assert.Equal(1311u, message.Sequence);
        if (message.Task is { } task)
        {
            Assert.Equal(Task.Id, task.Id);
            Assert.Equal("victim", task.Stats.AcComm);
        }
        if (message.Process is { } process)
            Assert.Equal(Process.Id, process.Id);
        Assert.All(raw, bytes => Assert.Contains(OriginalStats, original => original.AsSpan().SequenceEqual(bytes)));
    }

    private static Task WithinHangLimit(Action property) => System.Threading.Tasks.Task.Run(property).WaitAsync(HangLimit);

    [Fact]
    public void The_valid_message_should_decode_whole()
    {
        var decoded = DecodeOrNull(Valid);

        Assert.NotNull(decoded);
        var (message, raw) = Assert.Single(decoded);
        Assert.NotNull(message.Task);
        Assert.NotNull(message.Process);
        Assert.Equal(OriginalStats, raw);
        Assert.True(AttributeOffsets.Length >= 7, "AGGR_PID(pid, stats), AGGR_TGID(tgid, stats), NULL");
    }

    [Fact]
    public async Task Random_bytes_should_decode_or_fail_with_a_decode_error()
    {
        await WithinHangLimit(() =>
            Gen.Byte.Array[0, 2_000].Sample(bytes => { DecodeOrNull(bytes); }, iter: 20_000));
    }

    [Fact]
    public async Task Random_bytes_behind_a_plausible_header_should_decode_or_fail_with_a_decode_error()
    {
        // Random garbage rarely gets past the first length check; a correct nlmsg_len and
        // TASKSTATS_CMD_NEW header make the attribute walk see it.
        await WithinHangLimit(() =>
            Gen.Byte.Array[0, 2_000].Sample(body =>
            {
                var datagram = new byte[NetlinkHeader.Size + 4 + body.Length];
                new NetlinkHeader((uint)datagram.Length, FamilyId, NetlinkFlags.None, 1, 0).Write(datagram);
                datagram[NetlinkHeader.Size] = TaskstatsProtocol.CmdNew;
                body.CopyTo(datagram, NetlinkHeader.Size + 4);
                DecodeOrNull(datagram);
            }, iter: 20_000));
    }

    [Fact]
    public async Task Random_attribute_soup_should_decode_or_fail_with_a_decode_error()
    {
        // Attributes of the taskstats types with random (often wrong) sizes, nested at random.
        var leaf = Gen.Select(Gen.UShort[0, 8], Gen.Byte.Array[0, 700])
            .Select((type, payload) => NetlinkBytes(type, payload));
        var aggregate = Gen.Select(Gen.UShort[4, 5], leaf.Array[0, 4])
            .Select((type, children) => NetlinkBytes(type, children.SelectMany(c => c).ToArray()));
        var attribute = Gen.Frequency((3, leaf), (2, aggregate));
        await WithinHangLimit(() =>
            attribute.Array[0, 5].Sample(attributes =>
            {
                var body = attributes.SelectMany(a => a).ToArray();
                var datagram = TaskstatsMessageDecoderTests.Custom(w => w.Bytes(body));
                DecodeOrNull(datagram);
            }, iter: 10_000));
    }

    private static byte[] NetlinkBytes(ushort type, byte[] payload)
    {
        var length = 4 + payload.Length;
        var bytes = new byte[NetlinkHeader.Align(length)];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)length);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), type);
        payload.CopyTo(bytes, 4);
        return bytes;
    }

    [Fact]
    public void Every_truncation_of_a_valid_message_should_be_a_decode_error()
    {
        // Length 0 is an empty datagram: no message at all, which is fine.
        Assert.Empty(DecodeOrNull([])!);
        for (var length = 1; length < Valid.Length; length++)
            Assert.Null(DecodeOrNull(Valid[..length]));
    }

    [Fact]
    public void Every_truncation_with_a_matching_nlmsg_len_should_give_whole_records_or_a_decode_error()
    {
        var wholeDecodes = 0;
        for (var length = NetlinkHeader.Size; length < Valid.Length; length++)
        {
            var datagram = Valid[..length];
            BinaryPrimitives.WriteUInt32LittleEndian(datagram, (uint)length);

            var decoded = DecodeOrNull(datagram);

            AssertFirstIsWholeOrAbsent(decoded);
            if (decoded is not null)
                wholeDecodes++;
        }
        // Cut right after AGGR_PID, or after AGGR_TGID (only the NULL pad missing): those still decode.
        Assert.InRange(wholeDecodes, 1, 4);
    }

    [Fact]
    public async Task A_lying_nlmsg_len_should_give_whole_records_or_a_decode_error()
    {
        var length = Gen.OneOf(Gen.UInt, Gen.UInt[0, (uint)Valid.Length + 8]);
        await WithinHangLimit(() =>
            Gen.Select(length, Gen.Int[0, 64]).Sample((lie, extra) =>
            {
                // Sometimes trailing bytes, so that a short lie leaves a "next message" behind.
                var datagram = Valid.Concat(new byte[extra]).ToArray();
                BinaryPrimitives.WriteUInt32LittleEndian(datagram, lie);
                AssertFirstIsWholeOrAbsent(DecodeOrNull(datagram));
            }, iter: 10_000));
    }

    [Fact]
    public async Task A_lying_nla_len_should_decode_or_fail_with_a_decode_error()
    {
        var length = Gen.OneOf(Gen.UShort, Gen.UShort[0, 32], Gen.UShort[550, 580]);
        await WithinHangLimit(() =>
            Gen.Select(Gen.Int[0, AttributeOffsets.Length - 1], length).Sample((which, lie) =>
            {
                var datagram = (byte[])Valid.Clone();
                BinaryPrimitives.WriteUInt16LittleEndian(datagram.AsSpan(AttributeOffsets[which]), lie);
                DecodeOrNull(datagram);
            }, iter: 10_000));
    }

    [Fact]
    public async Task Every_nla_len_value_of_every_attribute_should_decode_or_fail_with_a_decode_error()
    {
        await WithinHangLimit(() =>
        {
            foreach (var offset in AttributeOffsets)
            {
                var datagram = (byte[])Valid.Clone();
                for (var lie = 0; lie <= ushort.MaxValue; lie += lie < 1_300 ? 1 : 97)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(datagram.AsSpan(offset), (ushort)lie);
                    DecodeOrNull(datagram);
                }
            }
        });
    }

    [Fact]
    public async Task Random_byte_changes_to_a_valid_message_should_decode_or_fail_with_a_decode_error()
    {
        var change = Gen.Select(Gen.Int[0, Valid.Length - 1], Gen.Byte);
        await WithinHangLimit(() =>
            change.Array[1, 8].Sample(changes =>
            {
                var datagram = (byte[])Valid.Clone();
                foreach (var (offset, value) in changes)
                    datagram[offset] = value;
                DecodeOrNull(datagram);
            }, iter: 20_000));
    }

    [Fact]
    public async Task Random_changes_in_the_headers_only_should_decode_or_fail_with_a_decode_error()
    {
        // Mutating inside the stats payload is boring (any values decode); aim at the structure instead.
        var headerBytes = Enumerable.Range(0, NetlinkHeader.Size + 4)
            .Concat(AttributeOffsets.SelectMany(o => Enumerable.Range(o, 8)))
            .Where(i => i < Valid.Length).Distinct().ToArray();
        var change = Gen.Select(Gen.Int[0, headerBytes.Length - 1], Gen.Byte);
        await WithinHangLimit(() =>
            change.Array[1, 4].Sample(changes =>
            {
                var datagram = (byte[])Valid.Clone();
                foreach (var (index, value) in changes)
                    datagram[headerBytes[index]] = value;
                DecodeOrNull(datagram);
            }, iter: 20_000));
    }

    [Fact]
    public async Task Well_formed_messages_of_random_records_should_round_trip()
    {
        var comm = Gen.Char['a', 'z'].Array[1, 15].Select(chars => new string(chars));
        await WithinHangLimit(() =>
            Gen.Select(Gen.UInt[1, 4_194_304], comm, Gen.UInt, Gen.Bool).Sample((pid, name, sequence, withProcess) =>
            {
                var task = new TaskstatsRecord(TaskstatsScope.Pid, pid, ExitMessageBuilder.Stats(pid, name));
                TaskstatsRecord? process = withProcess ? new TaskstatsRecord(TaskstatsScope.Tgid, pid, ExitMessageBuilder.Stats(pid, name)) : null;

                var decoded = DecodeOrNull(ExitMessageBuilder.Build(FamilyId, sequence, 0, task, process));

                Assert.NotNull(decoded);
                var (message, _) = Assert.Single(decoded);
                Assert.Equal(sequence, message.Sequence);
                Assert.Equal(pid, message.Task!.Value.Id);
                Assert.Equal(name, message.Task.Value.Stats.AcComm);
                Assert.Equal(withProcess, message.Process is not null);
            }, iter: 2_000));
    }
}
