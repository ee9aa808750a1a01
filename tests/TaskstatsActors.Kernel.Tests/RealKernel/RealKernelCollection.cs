namespace TaskstatsActors.Kernel.Tests.RealKernel;

/// <summary>
/// Tests that talk to the running kernel: they count every exit record on the machine's CPUs,
/// so they run one at a time and never alongside other collections.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealKernelCollection
{
    public const string Name = "RealKernel";
}
