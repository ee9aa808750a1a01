using System.Net;
using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks;
using TaskstatsActors.Collector.Status;
using TaskstatsActors.Collector.Tests.Sinks;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Prometheus;

/// <summary>
/// The Prometheus sink behind a real stream (<c>Sink.ActorRefWithAck</c>, as the collector runs it), scraped
/// over HTTP on 127.0.0.1. The stream stays open while the test scrapes; completing it flushes and stops the sink.
/// </summary>
public sealed class PrometheusSinkSpecs : SinkSpec
{
    public PrometheusSinkSpecs(ITestOutputHelper output) : base(output) { }

    /// <summary>A sink fed by a stream the test pushes into.</summary>
    private sealed class Fed(IActorRef sink, ISourceQueueWithComplete<CollectorEvent> queue, IPEndPoint endpoint)
    {
        public IActorRef Sink { get; } = sink;
        public IPEndPoint Endpoint { get; } = endpoint;

        public async Task PushAsync(params CollectorEvent[] events)
        {
            foreach (var e in events)
                Assert.IsType<QueueOfferResult.Enqueued>(await queue.OfferAsync(e));
        }

        public void Complete() => queue.Complete();
    }

    private Fed Start(string hocon = "", int? port = null)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, port ?? Scrape.FreePort());
        var sink = Sys.ActorOf(Props.Create(() => new PrometheusSink(Context("prometheus", $"listen = \"{endpoint}\"\n{hocon}"))));
        var queue = Source.Queue<CollectorEvent>(64, OverflowStrategy.Backpressure)
            .To(Sink.ActorRefWithAck<CollectorEvent>(sink, SinkProtocol.Init.Instance, SinkProtocol.Ack.Instance,
                SinkProtocol.Complete.Instance, ex => new SinkProtocol.Failed(ex)))
            .Run(Sys.Materializer());
        return new Fed(sink, queue, endpoint);
    }

    private static TaskstatsMessage Exit(uint sequence, uint pid, string comm, Action<TaskStats>? set = null)
    {
        var stats = ExitMessageBuilder.Stats(pid, comm);
        set?.Invoke(stats);
        return new TaskstatsMessage(sequence, new TaskstatsRecord(TaskstatsScope.Pid, pid, stats), null);
    }

    private static ExitBatch Batch(ShardInfo shard, params TaskstatsMessage[] messages) => new(shard, messages, SinkEvents.T0);

    private static ExitBatch Batch(string comm, int exits, ShardInfo? shard = null, uint firstPid = 5000) =>
        new(shard ?? SinkEvents.Shard0, Enumerable.Range(0, exits).Select(i => Exit((uint)i, firstPid + (uint)i, comm)).ToList(), SinkEvents.T0);

    private static CollectorStatus Status(params ShardSnapshot[] shards) => new(new CollectorSummary(shards, [], TimeSpan.FromSeconds(5)));

    private static ShardSnapshot Figures(ShardInfo shard, long records = 0, long overflows = 0, long restarts = 0, long queued = 0, long buffer = 0) =>
        new(shard, records, records, 0, overflows, restarts, 0, 0, 0, 0, queued, buffer);

    private static (string, string) L(string name, string value) => (name, value);

    [Fact]
    public async Task PrometheusSink_should_count_records_losses_and_restarts_per_shard()
    {
        var fed = Start();
        await fed.PushAsync([.. SinkEvents.Exits(batches: 4, perBatch: 25)]);
        await fed.PushAsync(
            Batch(SinkEvents.Shard0, SinkEvents.LastThread(sequence: 200, pid: 4243, tgid: 4242, comm: "java")),
            SinkEvents.Loss(123),
            SinkEvents.Loss(2, SinkEvents.Shard0, LossSource.SequenceGap),
            SinkEvents.Loss(1, SinkEvents.Shard0, LossSource.Malformed),
            SinkEvents.Loss(7),
            SinkEvents.Restart());

        var scrape = await Scrape.UntilAsync(fed.Endpoint, s => s.Value("taskstats_listener_restarts_total", L("shard", "1")) == 1, "the restart");

        // A last thread's message holds two records: the task's and the process's.
        Assert.Equal(52, scrape.Value("taskstats_records_total", L("shard", "0")));
        Assert.Equal(50, scrape.Value("taskstats_records_total", L("shard", "1")));
        Assert.Equal(130, scrape.Value("taskstats_lost_total", L("shard", "1"), L("source", "socket-drop-counter")));
        Assert.Equal(0, scrape.Value("taskstats_lost_total", L("shard", "1"), L("source", "sequence-gap")));
        Assert.Equal(2, scrape.Value("taskstats_lost_total", L("shard", "0"), L("source", "sequence-gap")));
        Assert.Equal(1, scrape.Value("taskstats_lost_total", L("shard", "0"), L("source", "malformed")));
        Assert.Equal(0, scrape.Value("taskstats_lost_total", L("shard", "0"), L("source", "socket-drop-counter")));
        Assert.Equal(0, scrape.Value("taskstats_listener_restarts_total", L("shard", "0")));
        Assert.Equal(8 << 20, scrape.Value("taskstats_receive_buffer_bytes", L("shard", "1")));
        Assert.Equal(1, scrape.Value("taskstats_shard_info", L("shard", "0"), L("cpus", "0")));
        Assert.Equal(1, scrape.Value("taskstats_shard_info", L("shard", "1"), L("cpus", "1")));
        // Incidents and queue depth come only with the collector's figures.
        Assert.Empty(scrape.Of("taskstats_enobufs_incidents_total"));
        Assert.Empty(scrape.Of("taskstats_socket_queued_bytes"));
        fed.Complete();
    }

    [Fact]
    public async Task PrometheusSink_should_count_each_exit_once_and_observe_each_tasks_total_delay_in_seconds()
    {
        var fed = Start();
        await fed.PushAsync(
            Batch(SinkEvents.Shard0,
                Exit(1, 100, "cc1", s => { s.CpuDelayTotal = 2_000_000; s.BlkioDelayTotal = 500_000_000; }),
                Exit(2, 101, "cc1", s => { s.CpuDelayTotal = 40_000_000; s.BlkioDelayTotal = 0; }),
                // The process record of a last thread is not a second exit.
                SinkEvents.LastThread(sequence: 3, pid: 103, tgid: 102, comm: "cc1")),
            Batch(SinkEvents.Shard1, Exit(1, 200, "sh", s => s.CpuDelayTotal = 5_000)));

        var scrape = await Scrape.UntilAsync(fed.Endpoint, s => s.Value("taskstats_exits_total", L("comm", "sh")) == 1, "the sh exit");

        Assert.Equal(3, scrape.Value("taskstats_exits_total", L("comm", "cc1")));
        Assert.Equal(0, scrape.Value("taskstats_exits_total", L("comm", "other")));
        var cc1Cpu = new[] { L("comm", "cc1"), L("category", "cpu") };
        Assert.Equal(3, scrape.Value("taskstats_delay_seconds_count", cc1Cpu));
        Assert.Equal(0.002 + 0.04 + 0.00003, scrape.Value("taskstats_delay_seconds_sum", cc1Cpu)!.Value, 9);
        Assert.Equal(0, scrape.Value("taskstats_delay_seconds_bucket", [.. cc1Cpu, L("le", "1e-05")]));
        Assert.Equal(1, scrape.Value("taskstats_delay_seconds_bucket", [.. cc1Cpu, L("le", "0.0001")]));  // 30 µs
        Assert.Equal(1, scrape.Value("taskstats_delay_seconds_bucket", [.. cc1Cpu, L("le", "0.001")]));
        Assert.Equal(2, scrape.Value("taskstats_delay_seconds_bucket", [.. cc1Cpu, L("le", "0.01")]));    // + 2 ms
        Assert.Equal(3, scrape.Value("taskstats_delay_seconds_bucket", [.. cc1Cpu, L("le", "0.1")]));     // + 40 ms
        Assert.Equal(3, scrape.Value("taskstats_delay_seconds_bucket", [.. cc1Cpu, L("le", "+Inf")]));
        Assert.Equal(0.5, scrape.Value("taskstats_delay_seconds_sum", L("comm", "cc1"), L("category", "blkio"))!.Value, 9);
        Assert.Equal(3, scrape.Value("taskstats_delay_seconds_count", L("comm", "cc1"), L("category", "blkio")));
        // Every category of the struct is a series: cpu, blkio, swapin, reclaim, thrashing, compact, wpcopy, irq.
        Assert.Equal(["blkio", "compact", "cpu", "irq", "reclaim", "swapin", "thrashing", "wpcopy"],
            scrape.Of("taskstats_delay_seconds_count").Where(s => s.Has(L("comm", "sh"))).Select(s => s.Labels["category"]).Order());
        fed.Complete();
    }

    [Fact]
    public async Task PrometheusSink_should_not_observe_a_delay_category_the_records_struct_version_lacks()
    {
        var fed = Start();
        // Version 8 has no thrashing, compact, wpcopy or irq fields: those stay absent, not 0.
        await fed.PushAsync(Batch(SinkEvents.Shard0, Exit(1, 100, "old", s =>
        {
            s.Version = 8;
            s.ThrashingCount = s.ThrashingDelayTotal = s.CompactCount = s.CompactDelayTotal = null;
            s.WpcopyCount = s.WpcopyDelayTotal = s.IrqCount = s.IrqDelayTotal = null;
            s.FreepagesCount = 1;
            s.FreepagesDelayTotal = 1_000;
        })));

        var scrape = await Scrape.UntilAsync(fed.Endpoint, s => s.Value("taskstats_exits_total", L("comm", "old")) == 1, "the exit");

        Assert.Equal(1, scrape.Value("taskstats_delay_seconds_count", L("comm", "old"), L("category", "reclaim")));
        Assert.Equal(0, scrape.Value("taskstats_delay_seconds_count", L("comm", "old"), L("category", "irq")));
        fed.Complete();
    }

    [Fact]
    public async Task PrometheusSink_should_bound_the_comm_label_to_the_top_commands_and_keep_labels_once_given()
    {
        var fed = Start("top-commands = 2\nmax-commands = 3");
        // make and cc1 are labelled at their first exit; sh and awk arrive when the labels at once are used up.
        await fed.PushAsync(Batch("make", 1), Batch("cc1", 1), Batch("sh", 30), Batch("awk", 5));
        var first = await Scrape.UntilAsync(fed.Endpoint, s => s.Value("taskstats_exits_total", L("comm", "other")) == 35, "35 exits as other");
        Assert.Equal(["cc1", "make", "other"], first.Of("taskstats_exits_total").Select(s => s.Labels["comm"]).Order());
        Assert.Equal(2, first.Value("taskstats_command_labels"));

        // The window closes with sh on top: sh gets its label (the third and last), and counts from now on.
        await fed.PushAsync(SinkEvents.Window(), Batch("sh", 4), Batch("awk", 50), SinkEvents.Window(), Batch("awk", 2), Batch("make", 1));
        var later = await Scrape.UntilAsync(fed.Endpoint, s => s.Value("taskstats_exits_total", L("comm", "make")) == 2, "the last make exit");

        Assert.Equal(4, later.Value("taskstats_exits_total", L("comm", "sh")));
        // awk led the second window, but the cap of 3 labels was reached: it stays "other".
        Assert.Equal(35 + 50 + 2, later.Value("taskstats_exits_total", L("comm", "other")));
        Assert.Equal(["cc1", "make", "other", "sh"], later.Of("taskstats_exits_total").Select(s => s.Labels["comm"]).Order());
        Assert.Equal(3, later.Value("taskstats_command_labels"));
        // Each labelled command and "other" has one histogram per category: (3 + 1) x 8 series.
        Assert.Equal(32, later.Of("taskstats_delay_seconds_count").Count());
        fed.Complete();
    }

    [Fact]
    public async Task PrometheusSink_should_take_incidents_queue_depth_and_buffer_from_the_collectors_figures_without_counting_twice()
    {
        var fed = Start();
        await fed.PushAsync(Batch("w", 10), Status(Figures(SinkEvents.Shard0, records: 25, overflows: 3, restarts: 2, queued: 4096, buffer: 1 << 20)));
        var scrape = await Scrape.UntilAsync(fed.Endpoint, s => s.Value("taskstats_enobufs_incidents_total", L("shard", "0")) == 3, "the figures");
        // The figures are ahead of the events the sink has seen: the larger count shows.
        Assert.Equal(25, scrape.Value("taskstats_records_total", L("shard", "0")));
        Assert.Equal(2, scrape.Value("taskstats_listener_restarts_total", L("shard", "0")));
        Assert.Equal(4096, scrape.Value("taskstats_socket_queued_bytes", L("shard", "0")));
        Assert.Equal(1 << 20, scrape.Value("taskstats_receive_buffer_bytes", L("shard", "0")));

        // Events already in the figures are not counted again; those beyond them are.
        await fed.PushAsync(Batch("w", 10, firstPid: 6000), SinkEvents.Restart(SinkEvents.Shard0), Batch("w", 10, firstPid: 7000), SinkEvents.Loss(1, SinkEvents.Shard0));
        scrape = await Scrape.UntilAsync(fed.Endpoint, s => s.Value("taskstats_lost_total", L("shard", "0"), L("source", "socket-drop-counter")) == 1, "the loss");
        Assert.Equal(30, scrape.Value("taskstats_records_total", L("shard", "0")));
        Assert.Equal(2, scrape.Value("taskstats_listener_restarts_total", L("shard", "0")));

        await fed.PushAsync(Status(Figures(SinkEvents.Shard0, records: 30, overflows: 4, restarts: 3, queued: 0, buffer: 2 << 20)));
        scrape = await Scrape.UntilAsync(fed.Endpoint, s => s.Value("taskstats_enobufs_incidents_total", L("shard", "0")) == 4, "the next figures");
        Assert.Equal(30, scrape.Value("taskstats_records_total", L("shard", "0")));
        Assert.Equal(3, scrape.Value("taskstats_listener_restarts_total", L("shard", "0")));
        Assert.Equal(0, scrape.Value("taskstats_socket_queued_bytes", L("shard", "0")));
        Assert.Equal(2 << 20, scrape.Value("taskstats_receive_buffer_bytes", L("shard", "0")));
        fed.Complete();
    }

    [Fact]
    public async Task PrometheusSink_should_serve_only_metrics_and_ignore_the_host_header()
    {
        var fed = Start("process-metrics = off");
        await fed.PushAsync(Batch("w", 1));
        await Scrape.UntilAsync(fed.Endpoint, s => s.Value("taskstats_exits_total", L("comm", "w")) == 1, "the exit");

        Assert.StartsWith("HTTP/1.1 404 ", await RawAsync(fed.Endpoint, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 404 ", await RawAsync(fed.Endpoint, "GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n"));
        var post = await RawAsync(fed.Endpoint, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 405 ", post);
        Assert.Contains("Allow: GET, HEAD\r\n", post);
        Assert.StartsWith("HTTP/1.1 400 ", await RawAsync(fed.Endpoint, "nonsense\r\n\r\n"));
        var head = await RawAsync(fed.Endpoint, "HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 ", head);
        Assert.EndsWith("\r\n\r\n", head);
        // Scrapers name the target as they like; the address bound is what counts, not Host.
        var named = await RawAsync(fed.Endpoint, "GET /metrics?x=1 HTTP/1.1\r\nHost: localhost:9464\r\nAccept-Encoding: gzip\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 ", named);
        Assert.Contains("taskstats_exits_total{comm=\"w\"} 1", named);
        // process-metrics = off: only the sink's own families.
        Assert.DoesNotContain("process_cpu_seconds_total", named);
        fed.Complete();
    }

    [Fact]
    public async Task PrometheusSink_should_export_the_collector_process_figures_by_default()
    {
        var fed = Start();
        var scrape = await Scrape.UntilAsync(fed.Endpoint, s => s.Of("process_cpu_seconds_total").Any(), "process metrics");
        Assert.NotEmpty(scrape.Of("process_working_set_bytes"));
        fed.Complete();
    }

    [Fact]
    public async Task PrometheusSink_should_listen_on_a_free_port_when_given_port_0_and_close_it_when_the_stream_ends()
    {
        var sink = ActorOfAsTestActorRef<PrometheusSink>(Props.Create(() => new PrometheusSink(Context("prometheus", "listen = \"127.0.0.1:0\""))));
        var endpoint = sink.UnderlyingActor.LocalEndPoint;
        Assert.NotNull(endpoint);
        Assert.NotEqual(0, endpoint.Port);
        Assert.Equal(IPAddress.Loopback, endpoint.Address);
        await Scrape.FromAsync(endpoint);

        RunToEnd(sink, [Batch("w", 3)]);

        var refused = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(endpoint);
        });
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task PrometheusSink_should_keep_counting_while_its_port_is_taken_and_listen_at_a_window_once_it_is_free()
    {
        var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        Fed? fed = null;
        try
        {
            EventFilter.Error(contains: $"cannot listen on 127.0.0.1:{port}").ExpectOne(() => fed = Start(port: port));
            await fed!.PushAsync(Batch("w", 7));
        }
        finally
        {
            squatter.Stop();
        }

        // The next window finds the port free.
        await fed.PushAsync(SinkEvents.Window());
        var scrape = await Scrape.UntilAsync(fed.Endpoint, s => s.Value("taskstats_exits_total", L("comm", "w")) == 7, "the exits counted while the port was taken");
        Assert.Equal(7, scrape.Value("taskstats_records_total", L("shard", "0")));
        fed.Complete();
    }

    private static async Task<string> RawAsync(IPEndPoint endpoint, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(endpoint);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }
}
