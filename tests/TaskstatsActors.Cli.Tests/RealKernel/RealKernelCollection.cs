namespace TaskstatsActors.Cli.Tests.RealKernel;

/// <summary>Command-line tests against the running kernel: one at a time, never alongside other collections.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealKernelCollection
{
    public const string Name = "RealKernel";
}
