using Akka.Actor;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Hosting;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Status;
using TaskstatsActors.Collector.Supervision;
using TaskstatsActors.Kernel.Cpus;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>
/// The collector's actor specs run against the fake kernel: they never touch the real one, so they may run
/// beside other collections; they run one after another among themselves because several start dozens of
/// threads' worth of work and the CI machine has two cores.
/// </summary>
[CollectionDefinition(Name)]
public sealed class CollectorActorsCollection
{
    public const string Name = "Collector actors (fake kernel)";
}

/// <summary>
/// Runs the whole collector (supervisor, listeners, watchdog, stream, aggregator, sinks) on a <see cref="FakeHost"/>.
/// Never sleeps a fixed time: every wait is a condition with a deadline.
/// </summary>
[Collection(CollectorActorsCollection.Name)]
public abstract class CollectorSpec : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>Generous: a loaded CI machine is slow, and a passing run never waits this long.</summary>
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly ITestOutputHelper _output;

    // On the scheduler the collector runs on (CollectorHostingExtensions), not Akka's default.
    protected CollectorSpec(ITestOutputHelper output) : base($"akka.loglevel = INFO\n{TimerQueueScheduler.ConfigLine}", output: output) => _output = output;

    protected FakeHost Host { get; } = new();

    private readonly List<SinkJournal> _journals = [];

    /// <summary>A journal for a <see cref="JournalSink"/>; opened at the end of the test so that no handler stays held.</summary>
    protected SinkJournal NewJournal()
    {
        var journal = SinkJournal.Create();
        _journals.Add(journal);
        return journal;
    }

    protected override void Dispose(bool disposing)
    {
        foreach (var journal in _journals)
            journal.Dispose();
        foreach (var socket in Host.Sockets)
            socket.Unpark();
        base.Dispose(disposing);
    }

    /// <summary>Settings built directly: one shard per CPU in <paramref name="cpus"/>, shard index = CPU.</summary>
    protected static CollectorSettings Settings(
        IReadOnlyList<int> cpus,
        IReadOnlyList<SinkSettings> sinks,
        int receiveBuffer = 64 * 1024,
        int maxReceiveBuffer = 1 << 20,
        int batchSize = 8,
        int streamBuffer = 4,
        TimeSpan? minBackoff = null) =>
        new(
            Shards: cpus.Select(cpu => new ShardInfo(cpu, CpuMask.Single(cpu))).ToList(),
            ReceiveBuffer: receiveBuffer,
            MaxReceiveBuffer: maxReceiveBuffer,
            DelayAccounting: DelayAccountingMode.Warn,
            AggregateWindow: TimeSpan.FromHours(1),
            AggregateTop: 5,
            StatusInterval: TimeSpan.Zero,
            PinListeners: false,
            BatchSize: batchSize,
            StreamBuffer: streamBuffer,
            Watchdog: new WatchdogSettings(minBackoff ?? TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(5)),
            Sinks: sinks,
            Warnings: []);

    /// <summary>Starts the collector and waits until every shard's listener is registered.</summary>
    protected IActorRef StartCollector(CollectorSettings settings)
    {
        var collector = Sys.ActorOf(CollectorSupervisor.Props(settings, Host.Open), "collector");
        Until(() => settings.Shards.All(shard => shard.Cpus.All(cpu => Host.Kernel.ListenerCount(cpu) == 1)), "every listener to register");
        return collector;
    }

    protected CollectorSummary Summary(IActorRef collector) =>
        collector.Ask<CollectorSummary>(CollectorProtocol.GetSummary.Instance, Patience).GetAwaiter().GetResult();

    /// <summary>Asks for a graceful shutdown and waits for its answer.</summary>
    protected CollectorSummary ShutDown(IActorRef collector)
    {
        collector.Tell(CollectorProtocol.Shutdown.Instance, TestActor);
        var summary = ExpectMsg<CollectorProtocol.ShutdownComplete>(Patience).Summary;
        _output.WriteLine(summary.Format());
        return summary;
    }

    /// <summary>
    /// Makes <paramref name="count"/> exits on <paramref name="cpu"/> the moment a restarted listener's socket (the
    /// second socket of the test) is about to register: nobody hears them. Also tells how many listeners the CPU had then.
    /// </summary>
    protected (List<ExitKey> Exits, Func<int> ListenersMeanwhile) MakeExitsWhileTheRestartRegisters(int count, int cpu = 0)
    {
        var unheard = new List<ExitKey>();
        var listeners = -1;
        Host.OnRequest = (socket, kind, mask) =>
        {
            if (kind == RequestKind.Register && socket.Index == 1 && unheard.Count == 0)
            {
                listeners = Host.Kernel.ListenerCount(cpu);
                unheard.AddRange(Host.Exit(cpu, count));
            }
        };
        return (unheard, () => listeners);
    }

    /// <summary>Waits until <paramref name="first"/> is closed and a second socket has registered CPU 0 in its place.</summary>
    protected void AwaitRestart(HookedSocket first) =>
        Until(() => first.Inner.IsClosed && Host.Sockets.Count == 2 && Host.Sockets[1].Mask == "0" && Host.Kernel.ListenerCount(0) == 1,
            "the listener to restart on a new, registered socket");

    /// <summary>Parks the receive loop of <paramref name="socket"/> and waits until it is parked.</summary>
    protected void Park(HookedSocket socket)
    {
        socket.Park();
        Until(() => socket.Parked, "the receive loop to park");
    }

    /// <summary>
    /// Overflows <paramref name="socket"/> (of CPU 0, granted twice <paramref name="receiveBuffer"/>) while its loop is
    /// parked: more exits than it holds, the last <paramref name="dropped"/> dropped. The loop's next drain reports the
    /// overflow, and the watchdog orders a handover after it. Returns the exits the socket kept.
    /// </summary>
    protected List<ExitKey> OverflowWhileParked(HookedSocket socket, int receiveBuffer, int dropped)
    {
        Park(socket);
        var fits = 2 * receiveBuffer / FakeHost.MessageCost;
        var burst = Host.Exit(0, fits + dropped);
        Assert.Equal((uint)dropped, socket.DropCount);
        socket.Unpark();
        return burst.Take(fits).ToList();
    }

    protected void WaitForReceived(SinkJournal journal, int count) =>
        Until(() => journal.Received.Count >= count, $"the sink to receive {count} messages");

    /// <summary>Waits for <paramref name="condition"/>, checking every 10 ms, failing after <see cref="Patience"/>.</summary>
    protected void Until(Func<bool> condition, string what) =>
        AwaitCondition(condition, Patience, TimeSpan.FromMilliseconds(10), $"waiting for {what}");

    /// <summary>
    /// With the sink holding the stream: makes exits on <paramref name="cpu"/> one at a time, each taken from
    /// <paramref name="socket"/> by the listener, until one is not taken within two seconds: the stream is full
    /// and the listener waits on it (a listener that is merely slow takes an exit in microseconds). Returns how many exits the stream took; the last one stays queued.
    /// </summary>
    protected int FeedUntilTheListenerWaits(HookedSocket socket, int cpu)
    {
        var taken = 0;
        while (true)
        {
            Host.Exit(cpu);
            if (!SpinWait.SpinUntil(() => socket.QueuedBytes == 0, TimeSpan.FromSeconds(2)))
                return taken;
            Assert.True(++taken < 10_000, "the listener kept reading although the sink held the stream");
        }
    }

    protected void Note(string text) => _output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {text}");

    /// <summary>Keys that occur more than once.</summary>
    protected static List<ExitKey> Repeated(IEnumerable<ExitKey> keys) =>
        keys.GroupBy(k => k).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
}
