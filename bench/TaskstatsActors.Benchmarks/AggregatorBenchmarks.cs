using BenchmarkDotNet.Attributes;
using TaskstatsActors.Collector.Aggregation;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Benchmarks;

/// <summary>
/// <see cref="WindowAccumulator.Add(ExitBatch)"/> on batches of 256 decoded messages: time and bytes per
/// message (each exit counts once, through its task record, into three groupings: command, uid, tgid).
/// The corpus (16,384 messages, ~9,000 tgids) is replayed and the window closed every 1024 batches: most
/// records meet a key the window already has, as in a storm, where a window's groupings reach their
/// 50,000-key limit within a second and later records land on an existing key or on "(other)".
/// </summary>
[MemoryDiagnoser]
public class AggregatorBenchmarks
{
    private ExitBatch[] _batches = null!;
    private WindowAccumulator _accumulator = null!;
    private DateTimeOffset _now;
    private int _next;
    private int _added;

    [GlobalSetup]
    public void Setup()
    {
        var shard = new ShardInfo(0, CpuMask.Single(0));
        _batches = ExitCorpus.FromFixture(64 * GraphHarness.BatchSize)
            .DecodeBatches(GraphHarness.BatchSize)
            .Select(b => new ExitBatch(shard, b, DateTimeOffset.UtcNow))
            .ToArray();
        _now = DateTimeOffset.UtcNow;
        _accumulator = new WindowAccumulator(20, _now);
    }

    [Benchmark(OperationsPerInvoke = GraphHarness.BatchSize)]
    public long Add_batch()
    {
        _accumulator.Add(_batches[_next]);
        _next = _next + 1 == _batches.Length ? 0 : _next + 1;
        if (++_added % 1024 == 0)
        {
            _now += TimeSpan.FromSeconds(10);
            _accumulator.Close(_now);
        }
        return _accumulator.Exits;
    }
}
