using System.Globalization;
using System.Text.Json;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Host;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Cli.Tests;

/// <summary>The command line in-process against <see cref="FakeKernel"/>: exit statuses, messages and output formats.</summary>
public sealed class TaskstatsCliFakeKernelTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly FakeKernel _kernel = new();
    private readonly CpuMask _online = OnlineCpus.System.ReadOnline();
    private readonly List<string> _files = [];

    public void Dispose()
    {
        foreach (var file in _files)
            File.Delete(file);
    }

    private int FirstCpu => _online.First();

    private static TaskstatsRecord Record(uint pid, string comm) => new(TaskstatsScope.Pid, pid, ExitMessageBuilder.Stats(pid, comm));

    private static void AssertOneCleanErrorLine(CliResult result, string mentions)
    {
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("taskstats-actors: ", line);
        Assert.Contains(mentions, line);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.DoesNotContain("   at ", result.Out);
        Assert.DoesNotContain("Exception", line);
    }

    private Task<(Task<CliResult> Run, ObservedSocket Socket)> StartListeningAsync(CancellationToken cancellationToken, params string[] args) =>
        StartListeningAsync(null, cancellationToken, args);

    /// <summary>Starts a long-running command and waits until its receive loop listens; fails if it ends first.</summary>
    private async Task<(Task<CliResult> Run, ObservedSocket Socket)> StartListeningAsync(Action? beforeFirstAcknowledgement, CancellationToken cancellationToken, params string[] args)
    {
        var opened = new TaskCompletionSource<ObservedSocket>(TaskCreationOptions.RunContinuationsAsynchronously);
        INetlinkSocket Open()
        {
            var socket = new ObservedSocket(_kernel.OpenSocket()) { BeforeFirstAcknowledgement = beforeFirstAcknowledgement };
            opened.TrySetResult(socket);
            return socket;
        }
        var run = Task.Run(() => CliHarness.RunAsync(Open, cancellationToken, args));
        var socket = await Until(opened.Task, run, "the command to open its socket");
        await Until(socket.Listening.ContinueWith(_ => socket), run, "the command to listen");
        return (run, socket);
    }

    private static async Task<T> Until<T>(Task<T> condition, Task<CliResult> run, string what)
    {
        var first = await Task.WhenAny(condition, run, Task.Delay(Patience));
        if (first == condition)
            return await condition;
        if (first == run)
            Assert.Fail($"the command ended before {what}: {await run}");
        Assert.Fail($"waited {Patience.TotalSeconds} s for {what}");
        throw new InvalidOperationException();
    }

    private static async Task<CliResult> Finished(Task<CliResult> run) => await run.WaitAsync(Patience);

    private string TempFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"taskstats-cli-test-{Guid.NewGuid():N}.bin");
        _files.Add(path);
        return path;
    }

    // ---- failures and their exit statuses ----

    [Fact]
    public async Task A_missing_capability_should_exit_3_with_one_line_naming_CAP_NET_ADMIN()
    {
        _kernel.LiveTasks[1] = ExitMessageBuilder.Stats(1, "init");
        _kernel.CommandErrno = Errno.EPERM;

        var result = await CliHarness.RunAsync(_kernel, "get", "--pid", "1");

        Assert.Equal(ExitCode.MissingCapability, result.ExitCode);
        AssertOneCleanErrorLine(result, "CAP_NET_ADMIN");
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task A_missing_capability_should_exit_3_from_listen_too()
    {
        _kernel.CommandErrno = Errno.EPERM;

        var result = await CliHarness.RunAsync(_kernel, "listen", "--cpus", _online.ToString());

        Assert.Equal(ExitCode.MissingCapability, result.ExitCode);
        AssertOneCleanErrorLine(result, "CAP_NET_ADMIN");
    }

    [Theory]
    [InlineData("--pid")]
    [InlineData("--tgid")]
    public async Task An_unknown_task_should_exit_4(string option)
    {
        var result = await CliHarness.RunAsync(_kernel, "get", option, "31337");

        Assert.Equal(ExitCode.NoSuchTask, result.ExitCode);
        AssertOneCleanErrorLine(result, "no such task");
        Assert.Contains("31337", result.Error);
    }

    [Fact]
    public async Task A_kernel_without_the_TASKSTATS_family_should_exit_5()
    {
        _kernel.HasTaskstats = false;

        var result = await CliHarness.RunAsync(_kernel, "get", "--pid", "1");

        Assert.Equal(ExitCode.NoTaskstats, result.ExitCode);
        AssertOneCleanErrorLine(result, "CONFIG_TASKSTATS");
    }

    [Fact]
    public async Task Check_should_exit_5_and_mark_the_family_line_when_the_family_is_missing()
    {
        _kernel.HasTaskstats = false;

        var result = await CliHarness.RunAsync(_kernel, "check");

        // The capability line comes first and sets the status where CAP_NET_ADMIN is missing.
        Assert.Equal(Capabilities.HasNetAdmin() ? ExitCode.NoTaskstats : ExitCode.MissingCapability, result.ExitCode);
        Assert.Contains(result.OutLines, line => line.StartsWith("! taskstats family", StringComparison.Ordinal) && line.Contains("CONFIG_TASKSTATS"));
        Assert.Contains("result: collection cannot work on this host", result.Out);
    }

    [Fact]
    public async Task A_cpu_that_is_not_online_should_exit_6_with_the_exact_message()
    {
        var offline = _online.Contains(9) ? _online.Max + 1 : 9;

        var result = await CliHarness.RunAsync(_kernel, "listen", "--cpus", offline.ToString());

        Assert.Equal(ExitCode.BadCpuMask, result.ExitCode);
        Assert.Equal([$"taskstats-actors: cpu {offline} is not online (online: {_online})"], result.ErrorLines);
        Assert.Empty(_kernel.Log); // refused before touching the kernel
    }

    [Theory]
    [InlineData("3-1", "invalid cpu list \"3-1\": range \"3-1\" is reversed (3 > 1)")]
    [InlineData("x", "invalid cpu list \"x\": \"x\" is not a cpu number or range")]
    public async Task A_malformed_cpu_list_should_exit_6_with_the_exact_message(string mask, string message)
    {
        var result = await CliHarness.RunAsync(_kernel, "listen", "--cpus", mask);

        Assert.Equal(ExitCode.BadCpuMask, result.ExitCode);
        Assert.Equal([$"taskstats-actors: {message}"], result.ErrorLines);
        Assert.Empty(_kernel.Log);
    }

    [Theory]
    [InlineData("get")]
    [InlineData("get", "--pid", "1", "--tgid", "1")]
    [InlineData("get", "--pid", "1", "--cgroup", "/tmp")]
    [InlineData("get", "--pid", "1", "--no-such-option")]
    [InlineData("get", "--pid", "one")]
    [InlineData("get", "--pid", "0")]
    [InlineData("listen")]
    [InlineData("listen", "--cpus", "0", "--count", "0")]
    [InlineData("listen", "--cpus", "0", "--count", "abc")]
    [InlineData("listen", "--cpus", "0", "--rcvbuf", "12Q")]
    [InlineData("no-such-command")]
    public async Task Bad_arguments_should_exit_2_with_one_line(params string[] args)
    {
        var result = await CliHarness.RunAsync(_kernel, args);

        Assert.Equal(ExitCode.BadArguments, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("taskstats-actors: ", line);
        Assert.EndsWith("(see 'taskstats-actors --help')", line);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.Empty(_kernel.Log);
    }

    [Fact]
    public async Task Get_without_an_option_should_say_which_options_it_needs()
    {
        var result = await CliHarness.RunAsync(_kernel, "get");

        Assert.Contains("get needs exactly one of --pid N, --tgid N or --cgroup DIR", result.Error);
    }

    // ---- get ----

    [Fact]
    public async Task Get_pid_json_should_print_pid_and_the_kernel_field_names()
    {
        _kernel.LiveTasks[4242] = ExitMessageBuilder.Stats(4242, "fake-task", exitCode: 0);

        var result = await CliHarness.RunAsync(_kernel, "get", "--pid", "4242", "--json");

        Assert.Equal(ExitCode.Success, result.ExitCode);
        using var json = JsonDocument.Parse(Assert.Single(result.OutLines));
        var keys = json.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal("pid", keys[0]);
        Assert.Equal(4242, json.RootElement.GetProperty("pid").GetInt32());
        Assert.Equal(
            TaskstatsLayout.ForVersion(16).Slots.Select(s => s.Field.Name).Order(StringComparer.Ordinal),
            keys.Skip(1).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("seq", keys);
        Assert.Equal("fake-task", json.RootElement.GetProperty("ac_comm").GetString());
        Assert.Equal(16, json.RootElement.GetProperty("version").GetInt32());
        Assert.Equal(30_000, json.RootElement.GetProperty("cpu_delay_total").GetInt64());
        Assert.Equal("", result.Error);
    }

    [Fact]
    public async Task Get_tgid_json_should_print_tgid_first()
    {
        _kernel.LiveTasks[900] = ExitMessageBuilder.Stats(900, "fake-proc");

        var result = await CliHarness.RunAsync(_kernel, "get", "--tgid", "900", "--json");

        Assert.Equal(ExitCode.Success, result.ExitCode);
        using var json = JsonDocument.Parse(Assert.Single(result.OutLines));
        var first = json.RootElement.EnumerateObject().First();
        Assert.Equal("tgid", first.Name);
        Assert.Equal(900, first.Value.GetInt32());
        Assert.False(json.RootElement.TryGetProperty("pid", out _));
    }

    [Fact]
    public async Task Get_pid_should_print_a_readable_record()
    {
        _kernel.LiveTasks[4242] = ExitMessageBuilder.Stats(4242, "fake-task", exitCode: 7 << 8);

        var result = await CliHarness.RunAsync(_kernel, "get", "--pid", "4242");

        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.StartsWith("pid 4242 (fake-task)  struct taskstats v16", result.OutLines[0]);
        Assert.Contains("exit code 7", result.Out);
    }

    [Fact]
    public async Task Get_cgroup_json_should_print_the_task_counts()
    {
        _kernel.Cgroup = new CgroupStats(Sleeping: 12, Running: 2, Stopped: 1, Uninterruptible: 3, IoWait: 4);
        var directory = Path.GetTempPath();

        var result = await CliHarness.RunAsync(_kernel, "get", "--cgroup", directory, "--json");

        Assert.Equal(ExitCode.Success, result.ExitCode);
        using var json = JsonDocument.Parse(Assert.Single(result.OutLines));
        Assert.Equal(directory, json.RootElement.GetProperty("cgroup").GetString());
        Assert.Equal(12, json.RootElement.GetProperty("nr_sleeping").GetInt32());
        Assert.Equal(2, json.RootElement.GetProperty("nr_running").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("nr_stopped").GetInt32());
        Assert.Equal(3, json.RootElement.GetProperty("nr_uninterruptible").GetInt32());
        Assert.Equal(4, json.RootElement.GetProperty("nr_io_wait").GetInt32());
    }

    [Fact]
    public async Task Get_cgroup_should_print_the_task_counts_as_text()
    {
        _kernel.Cgroup = new CgroupStats(12, 2, 1, 3, 4);

        var result = await CliHarness.RunAsync(_kernel, "get", "--cgroup", "/tmp");

        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.Equal(["cgroup /tmp: sleeping 12, running 2, stopped 1, uninterruptible 3, io wait 4"], result.OutLines);
    }

    [Fact]
    public async Task Get_cgroup_should_exit_7_when_the_kernel_refuses_the_directory()
    {
        _kernel.Cgroup = null;

        var result = await CliHarness.RunAsync(_kernel, "get", "--cgroup", "/tmp");

        Assert.Equal(ExitCode.CgroupUnsupported, result.ExitCode);
        AssertOneCleanErrorLine(result, "not a cgroup v1 directory");
    }

    // ---- listen ----

    [Fact]
    public async Task Listen_count_json_should_print_that_many_JSON_lines_with_seq_and_deregister()
    {
        var (run, socket) = await StartListeningAsync(CancellationToken.None, "listen", "--cpus", _online.ToString(), "--count", "3", "--json");
        for (uint pid = 1; pid <= 3; pid++)
            _kernel.Exit(FirstCpu, Record(100 + pid, $"child-{pid}"));

        var result = await Finished(run);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.Equal(3, result.OutLines.Length);
        var lines = result.OutLines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal([0L, 1L, 2L], lines.Select(j => j.GetProperty("seq").GetInt64()));
        Assert.Equal([101, 102, 103], lines.Select(j => j.GetProperty("pid").GetInt32()));
        Assert.Equal(["child-1", "child-2", "child-3"], lines.Select(j => j.GetProperty("ac_comm").GetString()));
        Assert.Contains($"register {socket.PortId} {_online}", _kernel.Log);
        Assert.Contains($"deregister {socket.PortId} {_online}", _kernel.Log);
        Assert.Contains("received 3 records, lost 0 in 0 overflows (ENOBUFS)", result.Error);
        Assert.True(socket.Inner.IsClosed);
    }

    [Fact]
    public async Task Listen_should_count_both_records_of_a_message_with_a_process_record()
    {
        var (run, _) = await StartListeningAsync(CancellationToken.None, "listen", "--cpus", _online.ToString(), "--count", "2", "--json");
        _kernel.Exit(FirstCpu, Record(101, "thread"), new TaskstatsRecord(TaskstatsScope.Tgid, 100, ExitMessageBuilder.Stats(100, "thread")));

        var result = await Finished(run);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        var lines = result.OutLines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(101, lines[0].GetProperty("pid").GetInt32());
        Assert.Equal(100, lines[1].GetProperty("tgid").GetInt32());
        Assert.All(lines, line => Assert.Equal(0, line.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task Listen_write_should_write_exactly_the_raw_struct_bytes_of_each_record()
    {
        var file = TempFile();
        var (run, _) = await StartListeningAsync(CancellationToken.None, "listen", "--cpus", _online.ToString(), "--count", "3", "--write", file);
        var records = Enumerable.Range(1, 3).Select(i => Record((uint)(200 + i), $"raw-{i}")).ToList();
        foreach (var record in records)
            _kernel.Exit(FirstCpu, record);

        var result = await Finished(run);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        var expected = records.SelectMany(r => TaskstatsEncoder.Encode(r.Stats, 16)).ToArray();
        var written = await File.ReadAllBytesAsync(file);
        Assert.Equal(3 * 560, written.Length);
        Assert.Equal(expected, written);
    }

    [Fact]
    public async Task Listen_should_report_an_overflow_with_the_lost_count_and_go_on()
    {
        var (run, socket) = await StartListeningAsync(CancellationToken.None, "listen", "--cpus", _online.ToString(), "--count", "3", "--json");
        socket.Inner.SetReceiveBuffer(1); // nothing fits: the next exits are dropped and counted
        for (uint pid = 1; pid <= 5; pid++)
            _kernel.Exit(FirstCpu, Record(pid, "lost"));
        Assert.Equal(5u, socket.Inner.DropCount);
        socket.Inner.SetReceiveBuffer(106_496);
        // As in the kernel, the socket drops everything until a receive finds its queue empty: here, the ENOBUFS.
        await Until(Task.Run(async () =>
        {
            while (socket.Inner.Congested)
                await Task.Delay(5);
            return true;
        }), run, "the command to read the overflow");
        for (uint pid = 11; pid <= 13; pid++)
            _kernel.Exit(FirstCpu, Record(pid, "kept"));

        var result = await Finished(run);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        // The command may read an ENOBUFS between two of the drops, and then sees two overflows; they add up to 5.
        var reported = result.ErrorLines.Where(line => line.StartsWith("ENOBUFS: ", StringComparison.Ordinal))
            .Sum(line => int.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture));
        Assert.Equal(5, reported);
        Assert.Matches(@"received 3 records, lost 5 in [1-5] overflows \(ENOBUFS\)", result.Error);
        var seqs = result.OutLines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("seq").GetInt64());
        Assert.Equal([5L, 6L, 7L], seqs); // the gap 0-4 is the loss
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task Listen_should_report_an_injected_overflow_and_go_on()
    {
        var (run, socket) = await StartListeningAsync(CancellationToken.None, "listen", "--cpus", _online.ToString(), "--count", "1");
        socket.Inner.FailNextReceive(new NetlinkOverflowException());
        _kernel.Exit(FirstCpu, Record(1, "after"));

        var result = await Finished(run);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.Contains(result.ErrorLines, line => line.StartsWith("ENOBUFS: ", StringComparison.Ordinal));
        Assert.Contains("pid 1 (after)", result.Out);
    }

    public static TheoryData<string, byte[]> MalformedDatagrams()
    {
        const ushort familyId = 31; // FakeKernel's default
        var lyingLength = ExitMessageBuilder.Build(familyId, 0, 0, Record(1, "liar"), null);
        lyingLength[0] = 0xff; // nlmsg_len beyond the datagram
        lyingLength[1] = 0xff;
        var noStats = new NetlinkMessageWriter(familyId, NetlinkFlags.None)
            .Bytes(new GenericNetlinkHeader(TaskstatsProtocol.CmdNew, 1).ToBytes())
            .BeginNested(TaskstatsProtocol.TypeAggrPid).UInt32(TaskstatsProtocol.TypePid, 1).EndNested()
            .ToArray(0);
        var truncatedStats = new NetlinkMessageWriter(familyId, NetlinkFlags.None)
            .Bytes(new GenericNetlinkHeader(TaskstatsProtocol.CmdNew, 1).ToBytes())
            .BeginNested(TaskstatsProtocol.TypeAggrPid)
                .UInt32(TaskstatsProtocol.TypePid, 1)
                .Attribute(TaskstatsProtocol.TypeStats, TaskstatsEncoder.Encode(ExitMessageBuilder.Stats(1, "cut"), 16)[..100])
            .EndNested()
            .ToArray(0);
        return new() { { "lying nlmsg_len", lyingLength }, { "AGGR_PID without stats", noStats }, { "truncated stats", truncatedStats }, { "7 stray bytes", new byte[7] } };
    }

    [Theory]
    [MemberData(nameof(MalformedDatagrams))]
    public async Task Listen_should_skip_a_malformed_datagram_with_a_message_and_go_on(string name, byte[] datagram)
    {
        Assert.NotEmpty(name);
        var (run, socket) = await StartListeningAsync(CancellationToken.None, "listen", "--cpus", _online.ToString(), "--count", "2", "--json");
        _kernel.Exit(FirstCpu, Record(1, "before"));
        socket.Inner.Inject(datagram);
        _kernel.Exit(FirstCpu, Record(2, "after"));

        var result = await Finished(run);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.Equal(["before", "after"], result.OutLines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("ac_comm").GetString()));
        Assert.Single(result.ErrorLines, line => line.StartsWith("skipped a malformed message: ", StringComparison.Ordinal));
        Assert.Contains("skipped 1 malformed messages", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task Listen_should_print_a_record_that_arrives_before_the_registration_is_acknowledged()
    {
        // The kernel registers the mask, a task exits, then the ack is sent: the record precedes the ack.
        var (run, _) = await StartListeningAsync(
            () => _kernel.Exit(FirstCpu, Record(1, "early")), CancellationToken.None,
            "listen", "--cpus", _online.ToString(), "--count", "2", "--json");
        _kernel.Exit(FirstCpu, Record(2, "late"));
        _kernel.Exit(FirstCpu, Record(3, "later"));

        var result = await Finished(run);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        // ["late", "later"] means the first record was dropped while RegisterAsync waited for its ack.
        Assert.Equal(["early", "late"], result.OutLines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("ac_comm").GetString()));
        Assert.Equal([0L, 1L], result.OutLines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task Listen_should_ignore_messages_of_other_families()
    {
        var (run, socket) = await StartListeningAsync(CancellationToken.None, "listen", "--cpus", _online.ToString(), "--count", "1", "--json");
        socket.Inner.Inject(new NetlinkMessageWriter(0x10, NetlinkFlags.None).Bytes([1, 1, 0, 0]).ToArray(0));
        _kernel.Exit(FirstCpu, Record(7, "mine"));

        var result = await Finished(run);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.Equal(7, JsonDocument.Parse(Assert.Single(result.OutLines)).RootElement.GetProperty("pid").GetInt32());
        Assert.DoesNotContain("malformed", result.Error);
    }

    [Fact]
    public async Task Listen_should_stop_on_cancellation_deregister_and_exit_0()
    {
        using var cancel = new CancellationTokenSource();
        var (run, socket) = await StartListeningAsync(cancel.Token, "listen", "--cpus", _online.ToString());
        _kernel.Exit(FirstCpu, Record(1, "one"));

        await cancel.CancelAsync();
        var result = await Finished(run);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.Contains($"deregister {socket.PortId} {_online}", _kernel.Log);
        Assert.True(socket.Inner.IsClosed);
        Assert.Contains("received ", result.Error);
    }

    [Fact]
    public async Task Listen_rcvbuf_should_ask_for_the_buffer_and_report_what_was_granted()
    {
        var (run, socket) = await StartListeningAsync(CancellationToken.None, "listen", "--cpus", _online.ToString(), "--rcvbuf", "4M", "--count", "1");
        _kernel.Exit(FirstCpu, Record(1, "one"));

        var result = await Finished(run);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.Contains($"rcvbuf {socket.PortId} {8 * 1024 * 1024}", _kernel.Log);
        Assert.Contains($"receive buffer: {8 * 1024 * 1024} bytes", result.Error);
    }
}
