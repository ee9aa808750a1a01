using Akka.Configuration;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Sinks;
using TaskstatsActors.Collector.Tests.Actors;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport;
using TaskstatsActors.TestSupport.FakeKernel;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Prometheus;

/// <summary>
/// The whole collector (on the fake kernel) with the Prometheus sink, watched by a real Prometheus server
/// that scrapes it every second: a PromQL query through the server's HTTP API must return the number of
/// exits the test made. Skips, saying why, where the <c>prometheus</c> binary is missing (CI installs it).
/// </summary>
[Collection(CollectorActorsCollection.Name)]
public sealed class PrometheusServerTests : CollectorSpec
{
    private const int Exits = 300;
    private static readonly TimeSpan QueryPatience = TimeSpan.FromSeconds(60);

    private readonly ITestOutputHelper _output;

    public PrometheusServerTests(ITestOutputHelper output) : base(output) => _output = output;

    [SkippableFact]
    public async Task A_real_Prometheus_server_should_scrape_the_sink_and_answer_a_PromQL_query_with_the_number_of_exits_made()
    {
        var binary = PrometheusServer.Find();
        Skip.If(binary is null, "real-server test skipped: no prometheus binary on PATH (Debian: apt-get install prometheus; CI installs it)");

        var sinkPort = Scrape.FreePort();
        var sink = new SinkSettings("prometheus", typeof(PrometheusSink), 256, SinkOverflow.Backpressure,
            ConfigurationFactory.ParseString($"listen = \"127.0.0.1:{sinkPort}\""));
        // Buffers large enough for the whole burst: this test is about the scrape, not about loss.
        var collector = StartCollector(Settings([0, 1], [sink], receiveBuffer: 1 << 20, maxReceiveBuffer: 1 << 20));
        await using var server = await PrometheusServer.StartAsync(binary, $"127.0.0.1:{sinkPort}", _output);

        var comm = LoadGenerator.UniqueComm("prom");
        for (var i = 0; i < Exits; i++)
        {
            var pid = 40_000u + (uint)i;
            Host.Kernel.Exit(i % 2, new TaskstatsRecord(TaskstatsScope.Pid, pid, ExitMessageBuilder.Stats(pid, comm)));
        }

        var query = $"taskstats_exits_total{{comm=\"{comm}\"}}";
        var exits = await server.QueryUntilAsync(query, value => value == Exits, QueryPatience);
        if (exits != Exits)
            _output.WriteLine($"targets: {await server.TargetsAsync()}\nprometheus log:\n{server.Log}");
        Assert.True(exits == Exits, $"{query} returned {exits?.ToString() ?? "nothing"}, expected {Exits}");

        // The same scrape carries the collector's own figures: every record, on both shards, none lost.
        Assert.Equal(Exits, await server.QueryAsync("sum(taskstats_records_total)"));
        Assert.Equal(2, await server.QueryAsync("count(taskstats_records_total > 0)"));
        Assert.Equal(0, await server.QueryAsync("sum(taskstats_lost_total)"));
        Assert.Equal(Exits, await server.QueryAsync($"sum(taskstats_delay_seconds_count{{comm=\"{comm}\",category=\"cpu\"}})"));
        Assert.Equal(1, await server.QueryAsync("up{job=\"taskstats\"}"));

        var summary = ShutDown(collector);
        Assert.Equal(Exits, summary.Records);
    }
}
