using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport;
using Xunit.Abstractions;

namespace TaskstatsActors.Kernel.Tests.RealKernel;

/// <summary>
/// <see cref="TaskstatsConnection"/> against the running kernel. Exits are made by the load generator
/// with a command name unique to the test, so that records of everything else exiting on the machine
/// can be told apart; only the sequence-number checks look at all records.
/// </summary>
[Collection(RealKernelCollection.Name)]
public sealed class TaskstatsConnectionRealKernelTests(ITestOutputHelper output)
{
    private const int Children = 200;
    private const int LargeBuffer = 64 * 1024 * 1024;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static int Ours(IEnumerable<TaskstatsMessage> messages, string comm) =>
        messages.Count(m => m.Task?.Stats.AcComm == comm);

    private static void SkipUnlessCpusOnline(CpuMask cpus)
    {
        var online = OnlineCpus.System.ReadOnline();
        Skip.IfNot(cpus.IsSubsetOf(online), $"needs cpus {cpus} online; online: {online}");
    }

    /// <summary>Runs the load generator while receiving, until <paramref name="comm"/> has <paramref name="count"/> records.</summary>
    private static async Task<LoadResult> RunAndReceiveAsync(ExitRecordCollector collector, LoadOptions options, string comm, int count)
    {
        using var cancel = new CancellationTokenSource(Patience);
        var load = LoadGenerator.RunAsync(options, cancel.Token);
        var receive = collector.ReceiveUntilAsync(messages => Ours(messages, comm) >= count, Patience, $"{count} exit records named {comm}");
        if (await Task.WhenAny(load, receive) == load)
            await load; // surfaces a load generator failure at once
        await receive;
        var result = await load;
        // Every record is queued before its parent can reap the child, so all of them are here now.
        collector.Drain();
        return result;
    }

    private static List<string> Gaps(IReadOnlyList<TaskstatsMessage> messages)
    {
        var gaps = new List<string>();
        for (var i = 1; i < messages.Count; i++)
        {
            if (messages[i].Sequence != unchecked(messages[i - 1].Sequence + 1))
                gaps.Add($"#{i}: {messages[i - 1].Sequence} -> {messages[i].Sequence}");
        }
        return gaps;
    }

    [SkippableFact]
    public async Task GetByPidAsync_should_return_the_record_of_this_test_process()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        using var connection = await TaskstatsConnection.OpenAsync();

        var record = await connection.GetByPidAsync(Environment.ProcessId);

        Assert.Equal(TaskstatsScope.Pid, record.Scope);
        Assert.Equal((uint)Environment.ProcessId, record.Id);
        Assert.Equal((uint)Environment.ProcessId, record.Stats.AcPid);
        Assert.False(string.IsNullOrEmpty(record.Stats.AcComm));
        Assert.True(record.Stats.Version >= 1, $"version {record.Stats.Version}");
        Assert.Equal("TASKSTATS", connection.Family.Name);
        output.WriteLine($"comm {record.Stats.AcComm}, version {record.Stats.Version}, {record.Stats.PayloadLength} bytes");
    }

    [SkippableFact]
    public async Task GetByTgidAsync_should_return_the_record_of_this_test_process()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        using var connection = await TaskstatsConnection.OpenAsync();

        var record = await connection.GetByTgidAsync(Environment.ProcessId);

        Assert.Equal(TaskstatsScope.Tgid, record.Scope);
        Assert.Equal((uint)Environment.ProcessId, record.Id);
        Assert.True(record.Stats.Version >= 1);
    }

    [SkippableFact]
    public async Task GetByPidAsync_should_report_ESRCH_for_a_pid_that_does_not_exist()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        using var connection = await TaskstatsConnection.OpenAsync();

        // Above PID_MAX_LIMIT (4194304), so no task can have it.
        var error = await Assert.ThrowsAsync<NetlinkErrorException>(() => connection.GetByPidAsync(int.MaxValue));

        Assert.Equal(Errno.ESRCH, error.Errno);
    }

    [SkippableFact]
    public async Task A_mask_of_all_cpus_should_receive_every_exit_record_of_the_children_exactly_once()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        var mask = CpuMask.Parse("0-1");
        SkipUnlessCpusOnline(mask);
        using var connection = await TaskstatsConnection.OpenAsync();
        connection.Socket.SetReceiveBuffer(LargeBuffer);
        var collector = new ExitRecordCollector(connection);
        var comm = LoadGenerator.UniqueComm("tsall");
        await connection.RegisterAsync(mask, collector.Events);
        try
        {
            var result = await RunAndReceiveAsync(collector, new LoadOptions { Mode = LoadMode.Fork, Count = Children, Comm = comm }, comm, Children);

            Assert.Equal(Children, result.Exits);
            var ours = collector.Messages.Where(m => m.Task?.Stats.AcComm == comm).ToList();
            Assert.Equal(Children, ours.Count);
            Assert.Equal(Children, ours.Select(m => m.Task!.Value.Id).Distinct().Count());
            Assert.All(ours, m => Assert.Equal(m.Task!.Value.Id, m.Task.Value.Stats.AcPid));
            Assert.All(ours, m => Assert.Null(m.Process)); // single-threaded children: no AGGR_TGID
            Assert.Equal(0, collector.Overflows);
            Assert.Equal(0u, connection.Socket.DropCount);
            output.WriteLine($"{collector.Messages.Count} messages in all, {ours.Count} named {comm}");
        }
        finally
        {
            await connection.DeregisterAsync(mask, collector.Events);
        }
    }

    [SkippableFact]
    public async Task A_one_cpu_mask_should_see_consecutive_sequence_numbers()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        var mask = CpuMask.Single(1);
        SkipUnlessCpusOnline(mask);
        using var connection = await TaskstatsConnection.OpenAsync();
        connection.Socket.SetReceiveBuffer(LargeBuffer);
        var collector = new ExitRecordCollector(connection);
        var comm = LoadGenerator.UniqueComm("tsseq");
        await connection.RegisterAsync(mask, collector.Events);
        try
        {
            await RunAndReceiveAsync(collector, new LoadOptions { Mode = LoadMode.Fork, Count = Children, Comm = comm, Cpu = 1 }, comm, Children);

            var messages = collector.Messages;
            Assert.Equal(Children, Ours(messages, comm));
            Assert.Empty(Gaps(messages));
            Assert.Equal(0, collector.Overflows);
            Assert.Equal(0u, connection.Socket.DropCount);
            output.WriteLine($"{messages.Count} messages, sequence {messages[0].Sequence}..{messages[^1].Sequence}");
        }
        finally
        {
            await connection.DeregisterAsync(mask, collector.Events);
        }
    }

    [SkippableFact]
    public async Task A_tiny_receive_buffer_should_overflow_and_count_every_lost_record()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        var mask = CpuMask.Single(1);
        SkipUnlessCpusOnline(mask);
        using var connection = await TaskstatsConnection.OpenAsync();
        var collector = new ExitRecordCollector(connection);
        var burst = LoadGenerator.UniqueComm("tsburst");
        var sentinel = LoadGenerator.UniqueComm("tsend");
        // Registered with the default buffer, so the acknowledgement cannot be dropped; shrunk afterwards.
        await connection.RegisterAsync(mask, collector.Events);
        try
        {
            var dropsBefore = connection.Socket.DropCount;
            connection.Socket.SetReceiveBuffer(1);
            // Nobody reads during the burst: the queue holds about one message, the kernel drops the rest.
            var result = await LoadGenerator.RunAsync(new LoadOptions { Mode = LoadMode.Vfork, Count = 2_000, Comm = burst, Cpu = 1 });
            collector.Drain();
            // A large buffer again, so that nothing from here on is dropped; then one exit to close the span.
            connection.Socket.SetReceiveBuffer(LargeBuffer);
            await RunAndReceiveAsync(collector, new LoadOptions { Mode = LoadMode.Fork, Count = 1, Comm = sentinel, Cpu = 1 }, sentinel, 1);
            var drops = connection.Socket.DropCount - dropsBefore;

            var messages = collector.Messages;
            var last = messages.Select((m, i) => (m, i)).First(x => x.m.Task?.Stats.AcComm == sentinel).i;
            var span = unchecked(messages[last].Sequence - messages[0].Sequence) + 1;
            var received = last + 1;
            output.WriteLine($"burst of {result.Exits}: received {received} messages ({Ours(messages, burst)} of the burst), " +
                $"dropped {drops}, sequence {messages[0].Sequence}..{messages[last].Sequence} ({span}), overflows reported {collector.Overflows}");
            Assert.True(collector.Overflows >= 1, "the socket should have reported ENOBUFS");
            Assert.True(drops > 0, "the kernel should have dropped records");
            Assert.True(Ours(messages, burst) < result.Exits, "a 1-byte buffer should not hold the whole burst");
            Assert.Equal(span, (uint)received + drops);
        }
        finally
        {
            await connection.DeregisterAsync(mask, collector.Events);
        }
    }

    [SkippableFact]
    public async Task A_socket_that_overflowed_should_drop_everything_until_its_queue_is_empty_room_or_not() =>
        Assert.Equal(0, await ExitsQueuedAfterAnOverflowAsync(endCongestion: false));

    [SkippableFact]
    public async Task Ending_the_congestion_of_a_socket_that_overflowed_should_let_it_queue_again_at_once() =>
        Assert.Equal(100, await ExitsQueuedAfterAnOverflowAsync(endCongestion: true));

    /// <summary>
    /// Overflows a socket nobody reads, gives it a large buffer (and, if asked, ends its congestion), and returns how
    /// many of 100 exits made then it queued. The kernel keeps a socket congested from its first drop until a receive
    /// leaves its queue empty, and drops everything meanwhile: what a listener's handover has to undo.
    /// </summary>
    private async Task<int> ExitsQueuedAfterAnOverflowAsync(bool endCongestion)
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        var mask = CpuMask.Single(1);
        SkipUnlessCpusOnline(mask);
        using var connection = await TaskstatsConnection.OpenAsync();
        var collector = new ExitRecordCollector(connection);
        var burst = LoadGenerator.UniqueComm("tscong");
        var after = LoadGenerator.UniqueComm("tsafter");
        await connection.RegisterAsync(mask, collector.Events);
        try
        {
            connection.Socket.SetReceiveBuffer(1);
            await LoadGenerator.RunAsync(new LoadOptions { Mode = LoadMode.Vfork, Count = 200, Comm = burst, Cpu = 1 });
            var dropsAtOverflow = connection.Socket.DropCount;
            connection.Socket.SetReceiveBuffer(LargeBuffer);
            if (endCongestion)
                connection.Socket.EndCongestion();
            // Every record is queued (or dropped) before its parent can reap the child: all are in by the time this returns.
            await LoadGenerator.RunAsync(new LoadOptions { Mode = LoadMode.Vfork, Count = 100, Comm = after, Cpu = 1 });
            var dropsAfter = connection.Socket.DropCount - dropsAtOverflow;
            collector.Drain();
            var queued = Ours(collector.Messages, after);
            output.WriteLine($"congestion {(endCongestion ? "ended" : "left")}: {Ours(collector.Messages, burst)} of 200 queued in the " +
                             $"1-byte buffer, {dropsAtOverflow} dropped; then {queued} of 100 queued in 64 MiB, {dropsAfter} dropped; " +
                             $"overflows reported {collector.Overflows}");
            Assert.True(dropsAtOverflow > 0, "the 1-byte buffer should have overflowed");
            Assert.True(dropsAfter >= (uint)(100 - queued), "every exit not queued was dropped and counted");
            return queued;
        }
        finally
        {
            await connection.DeregisterAsync(mask, collector.Events);
        }
    }

    [SkippableFact]
    public async Task Cgroup_stats_of_this_process_cpu_cgroup_v1_should_count_a_running_task()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        const string root = "/sys/fs/cgroup/cpu";
        Skip.IfNot(Directory.Exists(root) && !CgroupHierarchy.IsVersion2(root), $"{root} is not a cgroup v1 hierarchy here");
        // This thread is running while the kernel counts, in the cpu cgroup /proc/self/cgroup names.
        var own = File.ReadLines("/proc/self/cgroup")
            .Select(line => line.Split(':', 3))
            .Where(fields => fields.Length == 3 && fields[1].Split(',').Contains("cpu"))
            .Select(fields => fields[2])
            .FirstOrDefault() ?? "/";
        var directory = (root + own).TrimEnd('/');
        using var connection = await TaskstatsConnection.OpenAsync();

        var stats = await connection.GetCgroupStatsAsync(directory);

        output.WriteLine($"{directory}: {stats}");
        Assert.True(stats.Running >= 1, $"running {stats.Running}");
    }

    [SkippableFact]
    public async Task Cgroup_stats_of_a_cgroup2_directory_should_be_unsupported_and_say_cgroup_v2()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        const string unified = "/sys/fs/cgroup/unified";
        Skip.IfNot(Directory.Exists(unified) && CgroupHierarchy.IsVersion2(unified), $"{unified} is not a cgroup2 mount here");
        using var connection = await TaskstatsConnection.OpenAsync();

        var error = await Assert.ThrowsAsync<CgroupStatsUnsupportedException>(() => connection.GetCgroupStatsAsync(unified));

        Assert.Contains("cgroup v2", error.Message);
    }
}
