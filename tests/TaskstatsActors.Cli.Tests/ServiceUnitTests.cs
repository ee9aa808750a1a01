using System.Diagnostics;

namespace TaskstatsActors.Cli.Tests;

/// <summary>The shipped systemd unit is one systemd accepts, with the hardening the service relies on.</summary>
public sealed class ServiceUnitTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("taskstats-unit-").FullName;

    private static string UnitText() =>
        File.ReadAllText(TestSupport.RepositoryFiles.PathOf("config", "taskstats-actors.service"));

    [Fact]
    public void The_unit_should_run_unprivileged_with_only_CAP_NET_ADMIN_and_notify()
    {
        var unit = UnitText();

        Assert.Contains("Type=notify", unit);
        Assert.Contains("AmbientCapabilities=CAP_NET_ADMIN", unit);
        Assert.Contains("CapabilityBoundingSet=CAP_NET_ADMIN", unit);
        Assert.Contains("DynamicUser=yes", unit);
        Assert.Contains("ProtectSystem=strict", unit);
        Assert.Contains("StateDirectory=taskstats-actors", unit);
    }

    [SkippableFact]
    public async Task Systemd_should_accept_the_unit()
    {
        Skip.If(!File.Exists("/usr/bin/systemd-analyze"), "systemd-analyze is not installed");
        // Point ExecStart at the executable built beside the tests, so the check covers everything else.
        var executable = Path.Combine(AppContext.BaseDirectory, "taskstats-actors");
        var unitPath = Path.Combine(_directory, "taskstats-actors.service");
        await File.WriteAllTextAsync(unitPath, UnitText().Replace("/opt/taskstats-actors/taskstats-actors", executable));

        var info = new ProcessStartInfo("/usr/bin/systemd-analyze") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("verify");
        info.ArgumentList.Add(unitPath);
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, output);
        Assert.DoesNotContain("taskstats-actors.service:", output);
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
