using BenchmarkDotNet.Attributes;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Benchmarks;

/// <summary>
/// The collector's real stream (see <see cref="GraphHarness"/>) on one core: each invocation materializes the
/// graph, pushes 524,288 exit messages in batches of 256 and waits until the null sink has flushed (after
/// the aggregator took every batch). Reported per message. The job pins the benchmark process to CPU 0
/// (processor affinity mask 1), so the runtime sees one CPU.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(OneCoreConfig))]
public class GraphBenchmarks
{
    private const int Messages = 524_288;

    private GraphHarness _harness = null!;
    private ExitCorpus _corpus = null!;
    private List<List<TaskstatsMessage>> _decoded = null!;

    [GlobalSetup]
    public void Setup()
    {
        _harness = new GraphHarness();
        _corpus = ExitCorpus.FromFixture();
        _decoded = _corpus.DecodeBatches(GraphHarness.BatchSize);
    }

    [GlobalCleanup]
    public void Cleanup() => _harness.Dispose();

    /// <summary>Replayed datagrams → decode → channel → broadcast → aggregator + sink buffer → null sink.</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public long Decode_and_stream() => _harness.DecodeAndRunAsync(_corpus, Messages).GetAwaiter().GetResult().Records;

    /// <summary>The same with batches decoded beforehand: what the graph, the aggregator and the sink cost alone.</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public long Stream_only() => _harness.RunDecodedAsync(_decoded, Messages).GetAwaiter().GetResult().Records;
}
