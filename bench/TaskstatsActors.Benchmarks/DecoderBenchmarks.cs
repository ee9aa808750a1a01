using BenchmarkDotNet.Attributes;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Benchmarks;

/// <summary>
/// The decoder on replayed v16 exit messages: time and bytes allocated per message. A message with a task
/// record only is one record; the last thread of a multi-threaded process sends two (task and process).
/// What must be allocated per record is the record itself (its <see cref="TaskStats"/>) and the message
/// that holds the records.
/// </summary>
[MemoryDiagnoser]
public class DecoderBenchmarks
{
    private const int PerInvoke = 256;

    private byte[][] _taskOnly = null!;
    private byte[][] _withProcess = null!;
    private byte[][] _payloads = null!;

    [GlobalSetup]
    public void Setup()
    {
        var corpus = ExitCorpus.FromFixture(4096);
        _taskOnly = corpus.Where(withProcess: false)[..PerInvoke];
        _withProcess = corpus.Where(withProcess: true);
        // The struct alone, as TaskstatsDecoder sees it: the TASKSTATS_TYPE_STATS payload of each task record.
        _payloads = _taskOnly.Select(StatsPayload).ToArray();
    }

    /// <summary>One exit message with a task record only (one record): netlink framing, attributes, struct.</summary>
    [Benchmark(OperationsPerInvoke = PerInvoke)]
    public int Message_task_only()
    {
        var sum = 0;
        foreach (var datagram in _taskOnly)
            foreach (var message in NetlinkMessage.Split(datagram))
                sum += TaskstatsMessageDecoder.Decode(message).Task!.Value.Stats.Version;
        return sum;
    }

    /// <summary>One exit message with task and process record (two records).</summary>
    [Benchmark(OperationsPerInvoke = PerInvoke)]
    public int Message_task_and_process()
    {
        var sum = 0;
        for (var i = 0; i < PerInvoke; i++)
            foreach (var message in NetlinkMessage.Split(_withProcess[i % _withProcess.Length]))
                sum += TaskstatsMessageDecoder.Decode(message).Process!.Value.Stats.Version;
        return sum;
    }

    /// <summary>One <c>struct taskstats</c> (560 bytes, v16) into a <see cref="TaskStats"/>.</summary>
    [Benchmark(OperationsPerInvoke = PerInvoke)]
    public int Struct_v16()
    {
        var sum = 0;
        foreach (var payload in _payloads)
            sum += TaskstatsDecoder.Decode(payload).Version;
        return sum;
    }

    private static byte[] StatsPayload(byte[] datagram)
    {
        foreach (var message in NetlinkMessage.Split(datagram))
            foreach (var aggregate in NetlinkAttribute.Split(message.Payload[4..]))
                if (aggregate.Type == TaskstatsProtocol.TypeAggrPid)
                    foreach (var attribute in NetlinkAttribute.Split(aggregate.Payload))
                        if (attribute.Type == TaskstatsProtocol.TypeStats)
                            return attribute.Payload.ToArray();
        throw new InvalidDataException("no stats in the message");
    }
}
