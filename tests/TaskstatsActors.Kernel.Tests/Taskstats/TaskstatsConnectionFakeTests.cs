using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

/// <summary><see cref="TaskstatsConnection"/> against <see cref="FakeKernel"/>.</summary>
public sealed class TaskstatsConnectionFakeTests
{
    private readonly FakeKernel _kernel = new() { FamilyId = 0x2b };

    private static TaskstatsRecord Pid(uint pid, string comm) => new(TaskstatsScope.Pid, pid, ExitMessageBuilder.Stats(pid, comm));

    private static TaskstatsRecord Tgid(uint tgid, string comm) => new(TaskstatsScope.Tgid, tgid, ExitMessageBuilder.Stats(tgid, comm));

    [Fact]
    public async Task OpenAsync_should_resolve_the_TASKSTATS_family_through_nlctrl()
    {
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());

        Assert.Equal("TASKSTATS", connection.Family.Name);
        Assert.Equal(0x2b, connection.Family.Id);
        Assert.Equal(1u, connection.Family.Version);
        Assert.Equal(4u, connection.Family.MaxAttribute);
    }

    [Fact]
    public async Task OpenAsync_should_throw_TaskstatsUnavailableException_on_ENOENT_and_close_the_socket()
    {
        _kernel.HasTaskstats = false;
        var socket = _kernel.OpenSocket();

        var error = await Assert.ThrowsAsync<TaskstatsUnavailableException>(() => TaskstatsConnection.OpenAsync(socket));

        Assert.Contains("CONFIG_TASKSTATS", error.Message);
        Assert.True(socket.IsClosed);
        Assert.Contains($"close {socket.PortId}", _kernel.Log);
    }

    [Fact]
    public async Task GetByPidAsync_should_return_the_task_record()
    {
        _kernel.LiveTasks[4321] = ExitMessageBuilder.Stats(4321, "live-task");
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());

        var record = await connection.GetByPidAsync(4321);

        Assert.Equal(TaskstatsScope.Pid, record.Scope);
        Assert.Equal(4321u, record.Id);
        Assert.Equal("live-task", record.Stats.AcComm);
        Assert.Equal(4321u, record.Stats.AcPid);
        Assert.Equal(16, record.Stats.Version);
    }

    [Fact]
    public async Task GetByTgidAsync_should_return_the_process_record()
    {
        _kernel.LiveTasks[900] = ExitMessageBuilder.Stats(900, "live-process");
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());

        var record = await connection.GetByTgidAsync(900);

        Assert.Equal(TaskstatsScope.Tgid, record.Scope);
        Assert.Equal(900u, record.Id);
        Assert.Equal("live-process", record.Stats.AcComm);
    }

    [Fact]
    public async Task GetByPidAsync_should_report_ESRCH_for_a_task_that_does_not_exist()
    {
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());

        var error = await Assert.ThrowsAsync<NetlinkErrorException>(() => connection.GetByPidAsync(31337));

        Assert.Equal(Errno.ESRCH, error.Errno);
        Assert.Equal("TASKSTATS_CMD_GET pid 31337", error.Operation);
        Assert.Contains("no such task", error.Message);
    }

    [Fact]
    public async Task GetByTgidAsync_should_report_ESRCH_for_a_process_that_does_not_exist()
    {
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());

        var error = await Assert.ThrowsAsync<NetlinkErrorException>(() => connection.GetByTgidAsync(31337));

        Assert.Equal(Errno.ESRCH, error.Errno);
        Assert.Equal("TASKSTATS_CMD_GET tgid 31337", error.Operation);
    }

    [Fact]
    public async Task Commands_should_report_EPERM_as_a_missing_CAP_NET_ADMIN()
    {
        _kernel.LiveTasks[1] = ExitMessageBuilder.Stats(1, "init");
        _kernel.CommandErrno = Errno.EPERM;
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());

        var get = await Assert.ThrowsAsync<NetlinkErrorException>(() => connection.GetByPidAsync(1));
        var register = await Assert.ThrowsAsync<NetlinkErrorException>(() => connection.RegisterAsync(CpuMask.Parse("0-1")));

        Assert.Equal(Errno.EPERM, get.Errno);
        Assert.Contains("CAP_NET_ADMIN", get.Message);
        Assert.Equal(Errno.EPERM, register.Errno);
        Assert.Contains("CAP_NET_ADMIN", register.Message);
        Assert.Contains("registering cpumask 0-1", register.Message);
        Assert.DoesNotContain(_kernel.Log, line => line.StartsWith("register", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RegisterAsync_and_DeregisterAsync_should_send_the_mask_and_wait_for_the_acknowledgement()
    {
        var socket = _kernel.OpenSocket();
        using var connection = await TaskstatsConnection.OpenAsync(socket);

        await connection.RegisterAsync(CpuMask.Parse("0-1"));
        Assert.Equal(1, _kernel.ListenerCount(0));
        Assert.Equal(1, _kernel.ListenerCount(1));
        await connection.DeregisterAsync(CpuMask.Parse("1"));
        Assert.Equal(1, _kernel.ListenerCount(0));
        Assert.Equal(0, _kernel.ListenerCount(1));

        Assert.Equal(
            [$"open {socket.PortId}", $"register {socket.PortId} 0-1", $"deregister {socket.PortId} 1"],
            _kernel.Log.ToArray());
    }

    [Fact]
    public async Task RegisterAsync_should_call_registered_once_the_request_is_sent_before_the_ack_is_read()
    {
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());
        var listenersWhenCalled = -1;

        await connection.RegisterAsync(CpuMask.Parse("0"), registered: () => listenersWhenCalled = _kernel.ListenerCount(0));

        Assert.Equal(1, listenersWhenCalled);
    }

    [Fact]
    public async Task Exit_messages_should_arrive_on_the_registered_socket_with_per_cpu_sequence_numbers()
    {
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());
        await connection.RegisterAsync(CpuMask.Parse("0-1"));
        _kernel.Exit(0, Pid(10, "a"));
        _kernel.Exit(1, Pid(11, "b"));
        _kernel.Exit(0, Pid(12, "c"), Tgid(12, "c"));

        var messages = new List<TaskstatsMessage>();
        var buffer = new byte[65536];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (messages.Count < 3)
        {
            var length = await connection.Socket.ReceiveAsync(buffer, timeout.Token);
            messages.AddRange(TaskstatsMessageDecoderTests.DecodeAll(buffer[..length]));
        }

        Assert.Equal([0u, 0u, 1u], messages.Select(m => m.Sequence));
        Assert.Equal([10u, 11u, 12u], messages.Select(m => m.Task!.Value.Id));
        Assert.Equal(12u, messages[2].Process!.Value.Id);
    }

    [Fact]
    public async Task Exit_messages_that_arrive_while_a_request_waits_should_go_to_the_event_handler()
    {
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());
        await connection.RegisterAsync(CpuMask.Parse("0-1"));
        // Queued before the answer to the next request, so that request reads past them.
        _kernel.Exit(0, Pid(10, "first"));
        _kernel.Exit(1, Pid(11, "second"));
        _kernel.Exit(0, Pid(12, "third"), Tgid(12, "third"));
        var events = new CollectingEventHandler(connection.Family.Id);

        await connection.DeregisterAsync(CpuMask.Parse("0-1"), events);

        Assert.Equal(["first", "second", "third"], events.Messages.Select(m => m.Task!.Value.Stats.AcComm));
        Assert.Equal([0u, 0u, 1u], events.Messages.Select(m => m.Sequence));
        Assert.NotNull(events.Messages[2].Process);
        Assert.Equal(-1, connection.Socket.TryReceive(new byte[65536]));
    }

    [Fact]
    public async Task Exit_messages_that_arrive_while_registering_should_go_to_the_event_handler()
    {
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());
        await connection.RegisterAsync(CpuMask.Parse("0"));
        _kernel.Exit(0, Pid(20, "early"));
        var events = new CollectingEventHandler(connection.Family.Id);

        // A second registration on the same socket: the queued exit message precedes its acknowledgement.
        await connection.RegisterAsync(CpuMask.Parse("1"), events);

        Assert.Equal(["early"], events.Messages.Select(m => m.Task!.Value.Stats.AcComm));
        Assert.Equal(1, _kernel.ListenerCount(1));
    }

    [Fact]
    public async Task An_overflow_while_a_request_waits_should_go_to_the_event_handler_and_the_request_complete()
    {
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());
        await connection.RegisterAsync(CpuMask.Parse("0"));
        connection.Socket.SetReceiveBuffer(1);
        for (uint pid = 1; pid <= 5; pid++)
            _kernel.Exit(0, Pid(pid, "lost"));
        var events = new CollectingEventHandler(connection.Family.Id);

        await connection.DeregisterAsync(CpuMask.Parse("0"), events);

        Assert.Equal(1, events.Overflows);
        Assert.Empty(events.Messages);
        Assert.Equal(5u, connection.Socket.DropCount);
        Assert.Equal(0, _kernel.ListenerCount(0));
    }

    [Fact]
    public async Task GetCgroupStatsAsync_should_return_the_task_counts()
    {
        _kernel.Cgroup = new CgroupStats(Sleeping: 12, Running: 2, Stopped: 1, Uninterruptible: 3, IoWait: 4);
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());

        var stats = await connection.GetCgroupStatsAsync(Path.GetTempPath());

        Assert.Equal(new CgroupStats(12, 2, 1, 3, 4), stats);
    }

    [Fact]
    public async Task GetCgroupStatsAsync_should_explain_EINVAL_for_a_directory_that_is_not_a_cgroup_v1_one()
    {
        _kernel.Cgroup = null; // answers EINVAL, as the kernel does for a non-cgroup directory
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());

        var error = await Assert.ThrowsAsync<CgroupStatsUnsupportedException>(() => connection.GetCgroupStatsAsync("/"));

        Assert.Contains("not a cgroup v1 directory", error.Message);
    }

    [SkippableFact]
    public async Task GetCgroupStatsAsync_should_say_cgroup_v2_for_a_cgroup2_directory()
    {
        const string unified = "/sys/fs/cgroup/unified";
        Skip.IfNot(Directory.Exists(unified) && CgroupHierarchy.IsVersion2(unified), $"{unified} is not a cgroup2 mount here");
        _kernel.Cgroup = null;
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());

        var error = await Assert.ThrowsAsync<CgroupStatsUnsupportedException>(() => connection.GetCgroupStatsAsync(unified));

        Assert.Contains("cgroup v2", error.Message);
    }

    [Fact]
    public async Task GetCgroupStatsAsync_should_name_a_directory_it_cannot_open()
    {
        _kernel.Cgroup = new CgroupStats(1, 1, 1, 1, 1);
        using var connection = await TaskstatsConnection.OpenAsync(_kernel.OpenSocket());
        var missing = Path.Combine(Path.GetTempPath(), $"no-such-cgroup-{Guid.NewGuid():N}");

        var error = await Assert.ThrowsAsync<CgroupStatsUnsupportedException>(() => connection.GetCgroupStatsAsync(missing));

        Assert.Contains($"cannot open cgroup directory {missing}", error.Message);
    }

    [Fact]
    public async Task Dispose_should_close_the_socket()
    {
        var socket = _kernel.OpenSocket();
        var connection = await TaskstatsConnection.OpenAsync(socket);

        connection.Dispose();

        Assert.True(socket.IsClosed);
        Assert.Equal($"close {socket.PortId}", _kernel.Log.Last());
    }
}
