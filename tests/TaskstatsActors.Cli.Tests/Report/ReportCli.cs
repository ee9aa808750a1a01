namespace TaskstatsActors.Cli.Tests.Report;

/// <summary>Runs <c>report</c> in-process, with string writers for stdout and stderr; it never talks to the kernel.</summary>
internal static class ReportCli
{
    public static Task<CliResult> RunAsync(string[] args) =>
        CliHarness.RunAsync(() => throw new InvalidOperationException("report must not open a netlink socket"), args);
}
