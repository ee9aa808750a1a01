using System.Buffers.Binary;
using System.Collections.Concurrent;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.TestSupport.FakeKernel;

/// <summary>
/// A stand-in for the kernel's taskstats family, for tests that must inject faults: it answers
/// nlctrl and taskstats requests, keeps per-CPU registrations and per-CPU sequence counters, and
/// delivers exit messages to the sockets registered for the exiting CPU — dropping them, and
/// counting the drop, when a socket's receive buffer is full, as the kernel does.
/// </summary>
public sealed class FakeKernel
{
    private readonly object _gate = new();
    private readonly Dictionary<int, List<FakeNetlinkSocket>> _listeners = new();
    private readonly Dictionary<int, uint> _sequences = new();
    private uint _nextPortId = 1000;

    /// <summary>The family id handed out for TASKSTATS.</summary>
    public ushort FamilyId { get; init; } = 31;

    /// <summary>False makes family resolution fail with ENOENT (a kernel without CONFIG_TASKSTATS).</summary>
    public bool HasTaskstats { get; set; } = true;

    /// <summary>An errno every taskstats command fails with, e.g. EPERM for a missing CAP_NET_ADMIN.</summary>
    public int? CommandErrno { get; set; }

    /// <summary>Live tasks for TASKSTATS_CMD_GET, by pid (and by tgid for tgid requests).</summary>
    public ConcurrentDictionary<uint, TaskStats> LiveTasks { get; } = new();

    /// <summary>Task counts answered for CGROUPSTATS_CMD_GET; null answers EINVAL.</summary>
    public CgroupStats? Cgroup { get; set; }

    /// <summary>
    /// Runs once a cpumask is registered and before the acknowledgement is queued, as when a task exits
    /// between the kernel adding a listener and its answer reaching the listener.
    /// </summary>
    public Action<FakeNetlinkSocket, CpuMask>? WhileRegistering { get; set; }

    /// <summary>What happened, in order: "open 1000", "register 1000 0-1", "deregister 1000 0-1", "close 1000".</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>Opens a socket to this fake kernel.</summary>
    public FakeNetlinkSocket OpenSocket()
    {
        var socket = new FakeNetlinkSocket(this, Interlocked.Increment(ref _nextPortId));
        Log.Enqueue($"open {socket.PortId}");
        return socket;
    }

    /// <summary>
    /// A task exits on <paramref name="cpu"/>: every socket registered for that CPU gets the message with
    /// the CPU's next sequence number (or counts a drop when full). Returns that sequence number.
    /// </summary>
    public uint Exit(int cpu, TaskstatsRecord task, TaskstatsRecord? process = null)
    {
        lock (_gate)
        {
            var sequence = _sequences.GetValueOrDefault(cpu);
            _sequences[cpu] = sequence + 1;
            var message = ExitMessageBuilder.Build(FamilyId, sequence, 0, task, process);
            foreach (var socket in _listeners.GetValueOrDefault(cpu) ?? [])
                socket.Deliver(message);
            return sequence;
        }
    }

    /// <summary>How many sockets are registered for <paramref name="cpu"/> now.</summary>
    public int ListenerCount(int cpu)
    {
        lock (_gate)
            return _listeners.GetValueOrDefault(cpu)?.Count ?? 0;
    }

    internal void Closed(FakeNetlinkSocket socket)
    {
        lock (_gate)
        {
            foreach (var list in _listeners.Values)
                list.Remove(socket);
        }
        Log.Enqueue($"close {socket.PortId}");
    }

    /// <summary>Handles one request datagram from <paramref name="socket"/> and queues the answer.</summary>
    internal void Handle(FakeNetlinkSocket socket, ReadOnlySpan<byte> datagram)
    {
        foreach (var message in NetlinkMessage.Split(datagram))
        {
            var header = message.Header;
            var genl = GenericNetlinkHeader.Read(message.Payload);
            var attributes = message.Payload[GenericNetlinkHeader.Size..];
            if (header.Type == 0x10)
            {
                if (!HasTaskstats)
                    socket.Reply(Error(header, Errno.ENOENT));
                else
                    socket.Reply(new NetlinkMessageWriter(0x10, NetlinkFlags.None)
                        .Bytes(new GenericNetlinkHeader(1, 2).ToBytes())
                        .UInt16(1, FamilyId).String(2, TaskstatsProtocol.FamilyName).UInt32(3, 1).UInt32(5, 4)
                        .ToArray(header.Sequence, header.PortId));
                continue;
            }
            if (header.Type != FamilyId)
            {
                socket.Reply(Error(header, Errno.ENOENT));
                continue;
            }
            if (CommandErrno is { } refused)
            {
                socket.Reply(Error(header, refused));
                continue;
            }
            socket.Reply(genl.Command == TaskstatsProtocol.CgroupstatsCmdGet
                ? AnswerCgroup(header)
                : AnswerTaskstats(socket, header, attributes));
        }
    }

    private byte[] AnswerCgroup(NetlinkHeader header)
    {
        if (Cgroup is not { } stats)
            return Error(header, Errno.EINVAL);
        var payload = new byte[CgroupStats.Size];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, stats.Sleeping);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(8), stats.Running);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(16), stats.Stopped);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(24), stats.Uninterruptible);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(32), stats.IoWait);
        return new NetlinkMessageWriter(FamilyId, NetlinkFlags.None)
            .Bytes(new GenericNetlinkHeader(TaskstatsProtocol.CgroupstatsCmdNew, 1).ToBytes())
            .Attribute(TaskstatsProtocol.CgroupstatsTypeCgroupStats, payload)
            .ToArray(header.Sequence, header.PortId);
    }

    private byte[] AnswerTaskstats(FakeNetlinkSocket socket, NetlinkHeader header, ReadOnlySpan<byte> attributes)
    {
        foreach (var attribute in NetlinkAttribute.Split(attributes))
        {
            switch (attribute.Type)
            {
                case TaskstatsProtocol.CmdAttrPid or TaskstatsProtocol.CmdAttrTgid:
                    var id = attribute.GetUInt32();
                    if (!LiveTasks.TryGetValue(id, out var stats))
                        return Error(header, Errno.ESRCH);
                    var record = new TaskstatsRecord(attribute.Type == TaskstatsProtocol.CmdAttrPid ? TaskstatsScope.Pid : TaskstatsScope.Tgid, id, stats);
                    return record.Scope == TaskstatsScope.Pid
                        ? ExitMessageBuilder.Build(FamilyId, header.Sequence, header.PortId, record, null)
                        : ExitMessageBuilder.Build(FamilyId, header.Sequence, header.PortId, null, record);
                case TaskstatsProtocol.CmdAttrRegisterCpumask or TaskstatsProtocol.CmdAttrDeregisterCpumask:
                    if (!CpuMask.TryParse(attribute.GetString(), out var mask))
                        return Error(header, Errno.EINVAL);
                    var register = attribute.Type == TaskstatsProtocol.CmdAttrRegisterCpumask;
                    lock (_gate)
                    {
                        foreach (var cpu in mask)
                        {
                            if (!_listeners.TryGetValue(cpu, out var list))
                                _listeners[cpu] = list = [];
                            if (register && !list.Contains(socket))
                                list.Add(socket);
                            else if (!register)
                                list.Remove(socket);
                        }
                    }
                    Log.Enqueue($"{(register ? "register" : "deregister")} {socket.PortId} {mask}");
                    if (register)
                        WhileRegistering?.Invoke(socket, mask);
                    return Error(header, 0);
            }
        }
        return Error(header, Errno.EINVAL);
    }

    /// <summary>An NLMSG_ERROR answer; errno 0 is an acknowledgement.</summary>
    private static byte[] Error(NetlinkHeader request, int errno)
    {
        var message = new byte[NetlinkHeader.Size + 4 + NetlinkHeader.Size];
        new NetlinkHeader((uint)message.Length, NetlinkMessageType.Error, NetlinkFlags.None, request.Sequence, request.PortId).Write(message);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(NetlinkHeader.Size), -errno);
        request.Write(message.AsSpan(NetlinkHeader.Size + 4));
        return message;
    }
}
