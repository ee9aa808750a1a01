namespace TaskstatsActors.Cli;

/// <summary>A failure the command line reports as one line with a chosen exit status.</summary>
public sealed class CliException(string message, int exitCode) : Exception(message)
{
    /// <summary>The process exit status to use.</summary>
    public int ExitCode { get; } = exitCode;
}
