using System.Diagnostics;
using TaskstatsActors.TestSupport;

namespace TaskstatsActors.Cli.Tests.RealKernel;

/// <summary>
/// The service runs as an unprivileged user holding only CAP_NET_ADMIN. These tests start the real
/// executable under setpriv as user nobody, once with just that capability and once without any.
/// </summary>
[Collection("RealKernel")]
public sealed class UnprivilegedCollectorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("taskstats-nobody-").FullName;

    public UnprivilegedCollectorTests() => File.SetUnixFileMode(_directory, (UnixFileMode)0b111_111_111);

    private static void SkipUnlessPossible()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        Skip.If(Environment.UserName != "root", "needs root to drop to user nobody");
        Skip.If(!File.Exists("/usr/bin/setpriv"), "setpriv (util-linux) is not installed");
    }

    private async Task<(int ExitCode, string Output)> RunAsNobodyAsync(bool withNetAdmin)
    {
        var info = new ProcessStartInfo("/usr/bin/setpriv")
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "--reuid=65534", "--regid=65534", "--clear-groups" })
            info.ArgumentList.Add(argument);
        if (withNetAdmin)
        {
            info.ArgumentList.Add("--inh-caps=+net_admin");
            info.ArgumentList.Add("--ambient-caps=+net_admin");
        }
        info.ArgumentList.Add("--");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "taskstats-actors"));
        foreach (var argument in new[] { "collect", "--duration", "1s" })
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    [SkippableFact]
    public async Task Collect_should_work_as_nobody_holding_only_CAP_NET_ADMIN()
    {
        SkipUnlessPossible();

        var (exitCode, output) = await RunAsNobodyAsync(withNetAdmin: true);

        Assert.True(exitCode == 0, output);
        Assert.Contains("registered, receive buffer", output);
        Assert.Contains("collected for", output);
        Assert.True(File.Exists(Path.Combine(_directory, "data", "taskstats.db")), output);
    }

    [SkippableFact]
    public async Task Collect_should_fail_with_the_clear_message_as_nobody_without_the_capability()
    {
        SkipUnlessPossible();

        var (exitCode, output) = await RunAsNobodyAsync(withNetAdmin: false);

        Assert.Equal(ExitCode.MissingCapability, exitCode);
        Assert.Contains("collect needs CAP_NET_ADMIN", output);
        Assert.DoesNotContain("   at ", output);
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
