using Akka.Configuration;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Sinks;
using TaskstatsActors.Collector.Supervision;
using TaskstatsActors.Collector.Tests.Actors;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Prometheus;

/// <summary>
/// The Prometheus sink inside the whole collector (fake kernel): what it serves must agree with the
/// collector's own figures, overflows included.
/// </summary>
[Collection(CollectorActorsCollection.Name)]
public sealed class PrometheusSinkInCollectorSpecs : CollectorSpec
{
    public PrometheusSinkInCollectorSpecs(ITestOutputHelper output) : base(output) { }

    private static (string, string) L(string name, string value) => (name, value);

    [Fact]
    public async Task PrometheusSink_should_serve_the_same_records_losses_incidents_and_restarts_as_the_collectors_summary()
    {
        var endpoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, Scrape.FreePort());
        var sink = new SinkSettings("prometheus", typeof(PrometheusSink), 256, SinkOverflow.Backpressure,
            ConfigurationFactory.ParseString($"listen = \"{endpoint}\""));
        // A small buffer (the fake grants twice 16 KiB: about 20 messages) and a burst of 200 exits: shard 0 overflows.
        var collector = StartCollector(Settings([0, 1], [sink], receiveBuffer: 16 * 1024, minBackoff: TimeSpan.FromMilliseconds(100)));
        Host.Exit(0, 200);
        Host.Exit(1, 5);
        Until(() => Summary(collector).Shards[0].Restarts >= 1, "the watchdog to replace shard 0's socket");
        Host.Exit(0, 5);
        Until(() => Summary(collector).Records == Host.Exits.Count - Summary(collector).Lost, "every exit to be delivered or counted lost");
        var summary = Summary(collector);
        Assert.True(summary.Shards[0].Overflows >= 1, "the burst did not overflow shard 0's socket");

        // Incidents come with the collector's figures, every few seconds.
        var scrape = await Scrape.UntilAsync(endpoint, s =>
            s.Value("taskstats_enobufs_incidents_total", L("shard", "0")) == summary.Shards[0].Overflows &&
            s.Value("taskstats_records_total", L("shard", "0")) == summary.Shards[0].Records, "the figures to reach the sink");

        foreach (var shard in summary.Shards)
        {
            var label = L("shard", shard.Shard.Index.ToString());
            Assert.Equal(shard.Records, scrape.Value("taskstats_records_total", label));
            Assert.Equal(shard.Lost, scrape.Of("taskstats_lost_total").Where(s => s.Has(label)).Sum(s => s.Value));
            Assert.Equal(shard.Overflows, scrape.Value("taskstats_enobufs_incidents_total", label));
            Assert.Equal(shard.Restarts, scrape.Value("taskstats_listener_restarts_total", label));
            Assert.Equal(shard.ReceiveBuffer, scrape.Value("taskstats_receive_buffer_bytes", label));
        }
        Assert.Equal(summary.Records, scrape.Value("taskstats_exits_total", L("comm", "actorspec")));

        var final = ShutDown(collector);
        Assert.Equal(summary.Records, final.Records);
    }
}
