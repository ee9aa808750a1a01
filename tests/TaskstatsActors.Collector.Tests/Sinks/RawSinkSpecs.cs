using Akka.Actor;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks;
using TaskstatsActors.Kernel.Taskstats;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Sinks;

public sealed class RawSinkSpecs : SinkSpec
{
    private const int V16Size = 560;

    public RawSinkSpecs(ITestOutputHelper output) : base(output) { }

    private IActorRef Start(string path) =>
        Sys.ActorOf(Props.Create(() => new RawSink(Context("raw", $"path = \"{path}\""))));

    [Fact]
    public void RawSink_should_write_every_record_as_its_struct_back_to_back()
    {
        var path = PathOf("exits.taskstats");
        var multiThreaded = new ExitBatch(SinkEvents.Shard1, [SinkEvents.LastThread(7, 4243, 4242, "java")], SinkEvents.T0);
        CollectorEvent[] events = [.. SinkEvents.Exits(batches: 4, perBatch: 25), multiThreaded, SinkEvents.Loss(5), SinkEvents.Window()];

        RunToEnd(Start(path), events);

        // 100 task records, then the last thread's task record and its process record; the rest is not raw data.
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(102 * V16Size, bytes.Length);
        var records = Enumerable.Range(0, 102).Select(i => TaskstatsDecoder.Decode(bytes.AsSpan(i * V16Size, V16Size))).ToList();
        Assert.All(records, r => Assert.Equal(16, r.Version));
        Assert.Equal(Enumerable.Range(1000, 100).Select(i => (uint?)i), records.Take(100).Select(r => r.AcPid));
        Assert.Equal("worker", records[0].AcComm);
        Assert.Equal(30_000ul, records[0].CpuDelayTotal);
        Assert.Equal("java", records[101].AcComm);
        Assert.Equal(4242u, records[101].AcTgid);
    }

    [Fact]
    public void RawSink_should_write_each_record_in_its_own_struct_version()
    {
        var path = PathOf("mixed.taskstats");
        var v8 = SinkEvents.Record(TaskstatsScope.Pid, 77, "old");
        v8.Stats.Version = 8;
        var batch = new ExitBatch(SinkEvents.Shard0, [new TaskstatsMessage(1, v8, null), new TaskstatsMessage(2, SinkEvents.Record(TaskstatsScope.Pid, 78, "new"), null)], SinkEvents.T0);

        RunToEnd(Start(path), [batch]);

        var v8Size = TaskstatsLayout.ForVersion(8).Size;
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(v8Size + V16Size, bytes.Length);
        Assert.Equal("old", TaskstatsDecoder.Decode(bytes.AsSpan(0, v8Size)).AcComm);
        Assert.Equal("new", TaskstatsDecoder.Decode(bytes.AsSpan(v8Size)).AcComm);
    }
}
