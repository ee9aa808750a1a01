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
            ReportCommand.Create(environment),
            TopCommand.Create(environment),
        };

    /// <summary>The parser names .NET types ("System.Nullable`1[System.Int32]"); people want "a number".</summary>
    private static string Friendly(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"as expected type '(System\.Nullable`1\[)?System\.(Int32|Int64|UInt32)\]?'", "as a whole number");

    /// <summary>Runs the command line and returns the process exit status.</summary>
    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        ParseResult parse;
        try
        {
            parse = Build(environment).Parse(args);
        }
        catch (Exception e)
        {
            environment.Error.WriteLine($"{Name}: {e.Message} (see '{Name} --help')");
            return ExitCode.BadArguments;
        }
        if (parse.Errors.Count > 0)
        {
            environment.Error.WriteLine($"{Name}: {Friendly(parse.Errors[0].Message)} (see '{Name} --help')");
            return ExitCode.BadArguments;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = environment.Out,
                Error = environment.Error,
                EnableDefaultExceptionHandler = false,
                // SIGINT/SIGTERM cancel the command's token; give collect time to drain before the runtime gives up.
                ProcessTerminationTimeout = TimeSpan.FromSeconds(90),
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
