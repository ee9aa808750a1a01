using System.Text.Json;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.TestSupport;
using Xunit.Abstractions;

namespace TaskstatsActors.Cli.Tests.RealKernel;

/// <summary>The command line in-process against the running kernel (real netlink sockets).</summary>
[Collection(RealKernelCollection.Name)]
public sealed class TaskstatsCliRealKernelTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("taskstats-cli-real-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static Task<CliResult> Run(params string[] args) => CliHarness.RunAsync(NetlinkSocket.Open, args);

    [SkippableFact]
    public async Task Run_should_exit_with_the_command_status_and_print_its_exit_record()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        // The kernel names a task after the file it executes: a symlink to sh gives the shell a unique comm.
        var comm = LoadGenerator.UniqueComm("tsrun");
        var shell = Path.Combine(_directory, comm);
        File.CreateSymbolicLink(shell, "/bin/sh");

        var result = await Run("run", "--json", "--", shell, "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; exit 7")
            .WaitAsync(Patience);

        output.WriteLine(result.ToString());
        Assert.Equal(7, result.ExitCode);
        using var json = JsonDocument.Parse(Assert.Single(result.OutLines));
        var record = json.RootElement;
        Assert.Equal(comm, record.GetProperty("ac_comm").GetString());
        var pid = record.GetProperty("ac_pid").GetInt64();
        Assert.True(pid > 0);
        Assert.Equal(pid, record.GetProperty("pid").GetInt64());
        Assert.Equal(Environment.ProcessId, record.GetProperty("ac_ppid").GetInt64());
        Assert.Equal(7 << 8, record.GetProperty("ac_exitcode").GetInt64()); // wait(2) status: exit code in bits 8-15
        Assert.True(record.GetProperty("ac_utime").GetInt64() > 0, "the loop should have used user CPU time");
        Assert.False(record.TryGetProperty("seq", out _));
    }

    [SkippableFact]
    public async Task Run_should_print_a_readable_record_without_json()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();

        var result = await Run("run", "--", "/bin/sh", "-c", "exit 3").WaitAsync(Patience);

        Assert.Equal(3, result.ExitCode);
        Assert.StartsWith("pid ", result.OutLines[0]);
        Assert.Contains("(sh)", result.OutLines[0]);
        Assert.Contains("exit code 3", result.Out);
    }

    [SkippableFact]
    public async Task Check_should_exit_0_and_report_delay_accounting()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();

        var result = await Run("check").WaitAsync(Patience);

        output.WriteLine(result.ToString());
        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.Contains("delay accounting", result.Out);
        Assert.Contains("result: collection can work on this host", result.Out);
        Assert.DoesNotContain(result.OutLines, line => line.StartsWith('!'));
    }

    [SkippableFact]
    public async Task Get_pid_of_this_process_should_exit_0()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();

        var result = await Run("get", "--pid", Environment.ProcessId.ToString()).WaitAsync(Patience);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.StartsWith($"pid {Environment.ProcessId} (", result.OutLines[0]);
        Assert.Equal("", result.Error);
    }

    [SkippableFact]
    public async Task Get_pid_json_of_this_process_should_name_it()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();

        var result = await Run("get", "--pid", Environment.ProcessId.ToString(), "--json").WaitAsync(Patience);

        Assert.Equal(ExitCode.Success, result.ExitCode);
        using var json = JsonDocument.Parse(Assert.Single(result.OutLines));
        Assert.Equal(Environment.ProcessId, json.RootElement.GetProperty("pid").GetInt32());
        Assert.Equal(Environment.ProcessId, json.RootElement.GetProperty("ac_pid").GetInt32());
        Assert.True(json.RootElement.GetProperty("version").GetInt32() >= 1);
    }

    [SkippableFact]
    public async Task Get_cgroup_of_a_cgroup2_directory_should_exit_7()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        const string unified = "/sys/fs/cgroup/unified";
        Skip.IfNot(Directory.Exists(unified), $"no {unified} here");

        var result = await Run("get", "--cgroup", unified).WaitAsync(Patience);

        Assert.Equal(ExitCode.CgroupUnsupported, result.ExitCode);
        Assert.Contains("cgroup v2", Assert.Single(result.ErrorLines));
    }

    [SkippableFact]
    public async Task Listen_count_should_print_records_of_exits_on_its_cpu()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        var cpu = OnlineCpus.System.ReadOnline().Max;
        const int count = 20;
        using var cancel = new CancellationTokenSource(Patience);
        var listen = Task.Run(() => CliHarness.RunAsync(NetlinkSocket.Open, cancel.Token,
            "listen", "--cpus", cpu.ToString(), "--count", count.ToString(), "--json"));

        // The command registers at a moment we cannot see: make exits on its CPU until it has heard enough.
        var comm = LoadGenerator.UniqueComm("tslisten");
        while (!listen.IsCompleted)
        {
            await LoadGenerator.RunAsync(new LoadOptions { Mode = LoadMode.Fork, Count = count, Comm = comm, Cpu = cpu }, cancel.Token);
            await Task.WhenAny(listen, Task.Delay(TimeSpan.FromMilliseconds(50), cancel.Token));
        }
        var result = await listen;

        output.WriteLine(result.ToString());
        Assert.Equal(ExitCode.Success, result.ExitCode);
        Assert.Equal(count, result.OutLines.Length);
        Assert.All(result.OutLines, line =>
        {
            using var json = JsonDocument.Parse(line);
            Assert.True(json.RootElement.TryGetProperty("seq", out _));
            Assert.True(json.RootElement.TryGetProperty("ac_comm", out _));
        });
        Assert.Contains($"received {count} records", result.Error);
    }
}
