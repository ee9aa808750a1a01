using System.CommandLine;
using TaskstatsActors.Cli.Output;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Commands;

/// <summary><c>get --pid N | --tgid N | --cgroup DIR [--json]</c>: the stats of one live task, process or cgroup.</summary>
internal static class GetCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var pid = new Option<int?>("--pid") { Description = "A task (thread) id: its own stats." };
        var tgid = new Option<int?>("--tgid") { Description = "A process id: stats summed over all its threads." };
        var cgroup = new Option<string?>("--cgroup") { Description = "A cgroup v1 directory: its tasks counted by state (getdelays -C)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object with the kernel's field names." };
        var command = new Command("get", "Print the taskstats of a live task, process or cgroup (getdelays -p/-t/-C).")
        {
            pid, tgid, cgroup, json,
        };
        command.Validators.Add(result =>
        {
            if (result.Errors.Any())
                return; // a value did not convert; the parser's own message says which
            var given = (result.ValueOrDefault(pid) is null ? 0 : 1) + (result.ValueOrDefault(tgid) is null ? 0 : 1) + (result.ValueOrDefault(cgroup) is null ? 0 : 1);
            if (given != 1)
                result.AddError("get needs exactly one of --pid N, --tgid N or --cgroup DIR");
            if (result.ValueOrDefault(pid) is <= 0 || result.ValueOrDefault(tgid) is <= 0)
                result.AddError("a pid or tgid is a positive number");
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var connection = await TaskstatsConnection.OpenAsync(environment.OpenSocket(), cancellationToken);
            if (parse.GetValue(cgroup) is { } directory)
            {
                var stats = await connection.GetCgroupStatsAsync(directory, cancellationToken);
                if (parse.GetValue(json))
                    CgroupStatsWriter.WriteJson(environment.Out, directory, stats);
                else
                    CgroupStatsWriter.WriteText(environment.Out, directory, stats);
                return ExitCode.Success;
            }
            var record = parse.GetValue(pid) is { } p
                ? await connection.GetByPidAsync(p, cancellationToken)
                : await connection.GetByTgidAsync(parse.GetValue(tgid)!.Value, cancellationToken);
            if (parse.GetValue(json))
                RecordJsonWriter.WriteLine(environment.Out, record, sequence: null);
            else
                RecordTextWriter.Write(environment.Out, record);
            return ExitCode.Success;
        });
        return command;
    }
}
