using System.CommandLine;
using TaskstatsActors.Cli.Commands;

namespace TaskstatsActors.Cli;

/// <summary>The <c>taskstats-actors</c> command line: parses, runs one command, maps failures to one line and an exit status.</summary>
public static class TaskstatsCli
{
    private const string Name = "taskstats-actors";

    /// <summary>Builds the command tree for <paramref name="environment"/>.</summary>
    public static RootCommand Build(CliEnvironment environment) =>
        new("Collect Linux taskstats exit records: per-task delay accounting, CPU time, memory and I/O.")
        {
            GetCommand.Create(environment),
            RunCommand.Create(environment),
            ListenCommand.Create(environment),
            CheckCommand.Create(environment),
            CollectCommand.Create(environment),
        };

    /// <summary>Runs the command line and returns the process exit status.</summary>
    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        var parse = Build(environment).Parse(args);
        if (parse.Errors.Count > 0)
        {
            environment.Error.WriteLine($"{Name}: {parse.Errors[0].Message} (see '{Name} --help')");
            return ExitCode.BadArguments;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = environment.Out,
                Error = environment.Error,
                EnableDefaultExceptionHandler = false,
            }, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return ExitCode.Success;
        }
        catch (Exception e)
        {
            var (message, code) = CliErrors.Describe(e);
            environment.Error.WriteLine($"{Name}: {message}");
            return code;
        }
    }
}
