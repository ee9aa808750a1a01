using System.Runtime.InteropServices;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>
/// A connection to the kernel's taskstats interface: get the stats of a live task or process,
/// register a cpumask to receive exit records, and read cgroup task counts.
/// </summary>
public sealed class TaskstatsConnection : IDisposable
{
    private readonly GenericNetlinkConnection _genl;

    /// <summary>The resolved TASKSTATS family.</summary>
    public GenericNetlinkFamily Family { get; }

    /// <summary>The socket underneath (for receiving exit messages and reading its counters).</summary>
    public INetlinkSocket Socket => _genl.Socket;

    private TaskstatsConnection(GenericNetlinkConnection genl, GenericNetlinkFamily family)
    {
        _genl = genl;
        Family = family;
    }

    /// <summary>
    /// Opens a connection over <paramref name="socket"/> (a new real socket when null) and resolves the
    /// family. Throws <see cref="TaskstatsUnavailableException"/> when the kernel has no TASKSTATS family.
    /// </summary>
    public static async Task<TaskstatsConnection> OpenAsync(INetlinkSocket? socket = null, CancellationToken cancellationToken = default)
    {
        socket ??= NetlinkSocket.Open();
        var genl = new GenericNetlinkConnection(socket);
        try
        {
            var family = await genl.ResolveFamilyAsync(TaskstatsProtocol.FamilyName, cancellationToken).ConfigureAwait(false);
            return new TaskstatsConnection(genl, family);
        }
        catch (NetlinkErrorException e) when (e.Errno == Errno.ENOENT)
        {
            genl.Dispose();
            throw new TaskstatsUnavailableException();
        }
        catch
        {
            genl.Dispose();
            throw;
        }
    }

    /// <summary>The stats of a live task. Needs <c>CAP_NET_ADMIN</c>; <c>ESRCH</c> when there is no such task.</summary>
    public Task<TaskstatsRecord> GetByPidAsync(int pid, CancellationToken cancellationToken = default) =>
        GetAsync(TaskstatsProtocol.CmdAttrPid, pid, "pid", cancellationToken);

    /// <summary>The stats of a live process, summed over its threads.</summary>
    public Task<TaskstatsRecord> GetByTgidAsync(int tgid, CancellationToken cancellationToken = default) =>
        GetAsync(TaskstatsProtocol.CmdAttrTgid, tgid, "tgid", cancellationToken);

    private async Task<TaskstatsRecord> GetAsync(ushort attribute, int id, string what, CancellationToken cancellationToken)
    {
        var request = GenericNetlinkConnection.NewRequest(Family, TaskstatsProtocol.CmdGet, ack: false)
            .UInt32(attribute, checked((uint)id));
        var replies = await _genl.RequestAsync(request, $"TASKSTATS_CMD_GET {what} {id}", expectReply: true, null, cancellationToken)
            .ConfigureAwait(false);
        var message = TaskstatsMessageDecoder.DecodeAttributes(0, replies[0].AsSpan(GenericNetlinkHeader.Size));
        return (attribute == TaskstatsProtocol.CmdAttrPid ? message.Task : message.Process)
            ?? throw new NetlinkDecodeException($"the reply to TASKSTATS_CMD_GET {what} {id} holds no {what} record");
    }

    /// <summary>
    /// Registers this socket for the exit records of tasks exiting on <paramref name="cpus"/>. Messages that
    /// arrive while waiting for the acknowledgement go to <paramref name="events"/>. <paramref name="registered"/>
    /// runs the moment the kernel has added the listener (right after the request is sent).
    /// </summary>
    public Task RegisterAsync(CpuMask cpus, INetlinkEventHandler? events = null, CancellationToken cancellationToken = default, Action? registered = null) =>
        CpuMaskCommandAsync(TaskstatsProtocol.CmdAttrRegisterCpumask, "registering", cpus, events, cancellationToken, registered);

    /// <summary>Stops the exit records of <paramref name="cpus"/> to this socket.</summary>
    public Task DeregisterAsync(CpuMask cpus, INetlinkEventHandler? events = null, CancellationToken cancellationToken = default) =>
        CpuMaskCommandAsync(TaskstatsProtocol.CmdAttrDeregisterCpumask, "deregistering", cpus, events, cancellationToken, null);

    /// <summary>
    /// Deregisters without waiting for an answer. The kernel acts on the request inside <c>send()</c>,
    /// so when this returns no further exit message will be queued on this socket, and everything
    /// already queued can be drained. Use it on a socket whose queue may be full, where the
    /// acknowledgement itself would be dropped.
    /// </summary>
    public void Deregister(CpuMask cpus)
    {
        var request = GenericNetlinkConnection.NewRequest(Family, TaskstatsProtocol.CmdGet, ack: false)
            .String(TaskstatsProtocol.CmdAttrDeregisterCpumask, cpus.ToKernelString());
        Socket.Send(request.ToArray(0, Socket.PortId));
    }

    private Task CpuMaskCommandAsync(ushort attribute, string verb, CpuMask cpus, INetlinkEventHandler? events, CancellationToken cancellationToken, Action? afterSend)
    {
        var request = GenericNetlinkConnection.NewRequest(Family, TaskstatsProtocol.CmdGet, ack: true)
            .String(attribute, cpus.ToKernelString());
        return _genl.RequestAsync(request, $"{verb} cpumask {cpus}", expectReply: false, events, cancellationToken, afterSend);
    }

    /// <summary>
    /// Task counts by state for the cgroup directory <paramref name="directory"/> (<c>CGROUPSTATS_CMD_GET</c>).
    /// The kernel answers only for cgroup v1 hierarchies; for cgroup v2 this throws
    /// <see cref="CgroupStatsUnsupportedException"/> saying so.
    /// </summary>
    public async Task<CgroupStats> GetCgroupStatsAsync(string directory, CancellationToken cancellationToken = default)
    {
        var fd = LibC.open(directory, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new CgroupStatsUnsupportedException($"cannot open cgroup directory {directory}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        try
        {
            var request = GenericNetlinkConnection.NewRequest(Family, TaskstatsProtocol.CgroupstatsCmdGet, ack: false)
                .UInt32(TaskstatsProtocol.CgroupstatsCmdAttrFd, (uint)fd);
            IReadOnlyList<byte[]> replies;
            try
            {
                replies = await _genl.RequestAsync(request, $"CGROUPSTATS_CMD_GET {directory}", expectReply: true, null, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (NetlinkErrorException e) when (e.Errno == Errno.EINVAL)
            {
                throw new CgroupStatsUnsupportedException(CgroupHierarchy.IsVersion2(directory)
                    ? $"{directory} is in a cgroup v2 hierarchy: the kernel gives cgroup stats only for cgroup v1 directories (e.g. /sys/fs/cgroup/cpu/...)"
                    : $"the kernel refused cgroup stats for {directory}: it is not a cgroup v1 directory");
            }
            foreach (var attribute in NetlinkAttribute.Split(replies[0].AsSpan(GenericNetlinkHeader.Size)))
            {
                if (attribute.Type == TaskstatsProtocol.CgroupstatsTypeCgroupStats)
                    return CgroupStats.Decode(attribute.Payload);
            }
            throw new NetlinkDecodeException("the CGROUPSTATS_CMD_GET reply holds no CGROUPSTATS_TYPE_CGROUP_STATS attribute");
        }
        finally
        {
            LibC.close(fd);
        }
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose() => _genl.Dispose();
}
