using System.CommandLine;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Host;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Commands;

/// <summary>
/// <c>check</c>: everything collection depends on, one line each, and an exit status that is
/// non-zero when collection cannot work here.
/// </summary>
internal static class CheckCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var command = new Command("check", "Check that this host can deliver taskstats exit records, and say what to fix if not.");
        command.SetAction(async (_, cancellationToken) =>
        {
            var report = new CheckReport(environment.Out);
            report.Line("kernel", File.ReadAllText("/proc/sys/kernel/osrelease").Trim());
            var hasCapability = Capabilities.HasNetAdmin();
            report.Line("CAP_NET_ADMIN", hasCapability ? "yes" : "no: taskstats commands need it (run as root or grant the capability)", hasCapability ? ExitCode.Success : ExitCode.MissingCapability);
            var familyAnswers = await CheckTaskstatsAsync(environment, report, cancellationToken);
            var delay = new DelayAccounting().IsEnabled;
            report.Line("delay accounting", delay switch
            {
                true => "on (kernel.task_delayacct = 1)",
                false => $"off (kernel.task_delayacct = 0): most delay fields will be 0; {DelayAccounting.HowToEnable}",
                null => "no kernel.task_delayacct switch on this kernel",
            });
            var online = OnlineCpus.System.ReadOnline();
            report.Line("online CPUs", $"{online} ({online.Count})");
            var pidNamespace = Namespaces.IsInitialPid();
            report.Line("pid namespace", pidNamespace switch
            {
                true => "initial",
                false => "not the initial one: exit records reach only listeners in the initial pid namespace (run on the host, not in a container)",
                null => "unknown (cannot read /proc/self/ns/pid)",
            }, pidNamespace == false ? ExitCode.Failure : ExitCode.Success);
            var netNamespace = Namespaces.IsInitialNet();
            report.Line("net namespace", netNamespace switch
            {
                true => "initial",
                false => "not the initial one: the TASKSTATS family answers only in the initial network namespace",
                // The family is not visible outside the initial network namespace, so its answer settles it.
                null when familyAnswers => "initial (the TASKSTATS family answers here)",
                null => "unknown (cannot read /proc/1/ns/net)",
            }, netNamespace == false ? ExitCode.Failure : ExitCode.Success);
            environment.Out.WriteLine(report.Status == ExitCode.Success
                ? "result: collection can work on this host"
                : "result: collection cannot work on this host (see the lines marked !)");
            return report.Status;
        });
        return command;
    }

    private static async Task<bool> CheckTaskstatsAsync(CliEnvironment environment, CheckReport report, CancellationToken cancellationToken)
    {
        TaskstatsConnection connection;
        try
        {
            connection = await TaskstatsConnection.OpenAsync(environment.OpenSocket(), cancellationToken);
        }
        catch (Exception e) when (e is TaskstatsUnavailableException or NetlinkErrorException)
        {
            var (message, code) = CliErrors.Describe(e);
            report.Line("taskstats family", message, code);
            return false;
        }
        using (connection)
        {
            report.Line("taskstats family", $"{connection.Family.Name} (id {connection.Family.Id}, version {connection.Family.Version})");
            try
            {
                var own = await connection.GetByPidAsync(Environment.ProcessId, cancellationToken);
                report.Line("struct taskstats", $"version {own.Stats.Version}, {own.Stats.PayloadLength} bytes");
            }
            catch (NetlinkErrorException e)
            {
                var (message, code) = CliErrors.Describe(e);
                report.Line("struct taskstats", message, code);
            }
            return true;
        }
    }

    /// <summary>Aligned "name  value" lines; a failing line is marked and sets the exit status.</summary>
    private sealed class CheckReport(TextWriter output)
    {
        public int Status { get; private set; } = ExitCode.Success;

        public void Line(string name, string value, int status = ExitCode.Success)
        {
            output.WriteLine($"{(status == ExitCode.Success ? " " : "!")} {name,-18}{value}");
            if (status != ExitCode.Success && Status == ExitCode.Success)
                Status = status;
        }
    }
}
