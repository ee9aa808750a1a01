using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace TaskstatsActors.Benchmarks;

/// <summary>Runs the benchmark process pinned to CPU 0 (affinity mask 1): the runtime then sees one CPU.</summary>
public sealed class OneCoreConfig : ManualConfig
{
    public OneCoreConfig()
    {
        // Long operations (a tenth of a second or more each): one per iteration. Enough warm-up iterations for the
        // JIT to reach its final code (tier-1 with profile-guided optimisation) before the measured ones.
        AddJob(Job.Default.WithAffinity(1).WithWarmupCount(10).WithIterationCount(15).WithInvocationCount(1).WithUnrollFactor(1).WithId("OneCore"));
    }
}
