using System.Diagnostics;
using TaskstatsActors.TestSupport;

namespace TaskstatsActors.Cli.Tests.Top;

/// <summary><c>top</c> against the real kernel: in batch mode, and through a real terminal (tmux).</summary>
[Collection("RealKernel")]
public sealed class TopRealKernelTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("taskstats-top-").FullName;
    private readonly List<Process> _children = [];

    /// <summary>A busy shell loop whose command name is unique to the test (a symlink to /bin/sh).</summary>
    private (Process Process, string Comm) StartBusyChild()
    {
        var comm = LoadGenerator.UniqueComm("tbusy");
        var link = Path.Combine(_directory, comm);
        File.CreateSymbolicLink(link, "/bin/sh");
        var info = new ProcessStartInfo(link) { ArgumentList = { "-c", "while :; do :; done" } };
        var process = Process.Start(info)!;
        _children.Add(process);
        return (process, comm);
    }

    [SkippableFact]
    public async Task Batch_mode_should_print_plain_tables_with_a_busy_process_on_top_by_cpu_time()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        var (_, comm) = StartBusyChild();

        var result = await CliHarness.RunAsync(TaskstatsActors.Kernel.Netlink.NetlinkSocket.Open,
            "top", "--batch", "--iterations", "2", "--interval", "500ms", "--sort", "cputime", "--top", "500");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("\x1b[", result.Out); // plain text for scripts
        var tables = result.Out.Split("taskstats-actors top - ", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, tables.Length); // the "sampling" screen, then two intervals
        var lastTable = tables[^1].Split('\n');
        Assert.Contains("*CPU%", lastTable[1]);
        // Other work on the machine may use more CPU; the busy loop must show, and use a good share of a CPU.
        var line = Assert.Single(lastTable, l => l.Contains(comm));
        var cpuPercent = double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^2]);
        Assert.True(cpuPercent >= 20, line);
    }

    [SkippableFact]
    public async Task In_a_terminal_a_key_should_change_the_sort_column_and_q_should_quit()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        Skip.If(!File.Exists("/usr/bin/tmux"), "tmux is not installed");
        var session = "tsa-top-" + Guid.NewGuid().ToString("N")[..8];
        var executable = Path.Combine(AppContext.BaseDirectory, "taskstats-actors");
        await Tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50", $"{executable} top --interval 300ms");
        try
        {
            await WaitForScreen(session, screen => screen.Contains("*CPUDLY%") && screen.Contains("keys: c=cpu"));
            await Tmux("send-keys", "-t", session, "b");
            await WaitForScreen(session, screen => screen.Contains("*BLKIO%") && screen.Contains("sorted by blkio"));
            await Tmux("send-keys", "-t", session, "u");
            await WaitForScreen(session, screen => screen.Contains("*CPU%"));
            await Tmux("send-keys", "-t", session, "q");
            await WaitUntil(async () => (await Tmux("has-session", "-t", session)).ExitCode != 0, "top to quit on q");
        }
        finally
        {
            await Tmux("kill-session", "-t", session);
        }
    }

    private static async Task<(int ExitCode, string Output)> Tmux(params string[] arguments)
    {
        var info = new ProcessStartInfo("/usr/bin/tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    private static Task WaitForScreen(string session, Func<string, bool> condition) =>
        WaitUntil(async () => condition((await Tmux("capture-pane", "-p", "-t", session)).Output), "the screen to show the expected view");

    private static async Task WaitUntil(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        foreach (var child in _children)
        {
            try { child.Kill(); child.WaitForExit(); } catch (InvalidOperationException) { }
            child.Dispose();
        }
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
