using System.Net;
using Akka.Configuration;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Sinks;
using TaskstatsActors.Collector.Tests.Sinks;

namespace TaskstatsActors.Collector.Tests.Prometheus;

public sealed class PrometheusSinkSettingsSpecs
{
    private static PrometheusSinkSettings Read(string hocon) =>
        PrometheusSinkSettings.Read(new SinkContext("prometheus", ConfigurationFactory.ParseString(hocon), SinkEvents.Shards));

    private static ConfigException Refused(string hocon) => Assert.Throws<ConfigException>(() => Read(hocon));

    [Fact]
    public void Settings_should_default_to_loopback_9464_top_20_and_decade_buckets()
    {
        var settings = Read("");

        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9464), settings.Listen);
        Assert.Equal(20, settings.TopCommands);
        Assert.Equal(40, settings.MaxCommands);
        Assert.Equal([0.00001, 0.0001, 0.001, 0.01, 0.1, 1, 10], settings.DelayBuckets);
        Assert.True(settings.ProcessMetrics);
    }

    [Theory]
    [InlineData("127.0.0.1:9464", "127.0.0.1", 9464)]
    [InlineData("0.0.0.0:9100", "0.0.0.0", 9100)]
    [InlineData("localhost:0", "127.0.0.1", 0)]
    [InlineData("[::1]:9464", "::1", 9464)]
    [InlineData("[::]:9464", "::", 9464)]
    public void Settings_should_read_listen_addresses(string text, string address, int port)
    {
        var settings = Read($"listen = \"{text}\"");
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), port), settings.Listen);
    }

    [Theory]
    [InlineData("9464", "has no port")]
    [InlineData("127.0.0.1", "has no port")]
    [InlineData("127.0.0.1:", "has no port")]
    [InlineData("127.0.0.1:70000", "is not a number from 0 to 65535")]
    [InlineData("127.0.0.1:-1", "is not a number")]
    [InlineData("example.org:9464", "is not an IPv4 address")]
    [InlineData("::1:9464", "is not an IPv4 address")]
    [InlineData("", "is empty")]
    public void Settings_should_refuse_a_listen_value_that_is_not_address_colon_port(string text, string problem)
    {
        var e = Refused($"listen = \"{text}\"");
        Assert.Equal("taskstats.sinks.prometheus.listen", e.Key);
        Assert.Contains(problem, e.Problem);
        Assert.Contains("127.0.0.1:9464", e.Valid);
    }

    [Fact]
    public void Settings_should_take_max_commands_from_top_commands_unless_given()
    {
        Assert.Equal(10, Read("top-commands = 5").MaxCommands);
        Assert.Equal(7, Read("top-commands = 5\nmax-commands = 7").MaxCommands);
        Assert.Equal(0, Read("top-commands = 0").MaxCommands);
    }

    [Theory]
    [InlineData("top-commands = -1", "top-commands")]
    [InlineData("top-commands = 1001", "top-commands")]
    [InlineData("top-commands = many", "top-commands")]
    [InlineData("top-commands = 10\nmax-commands = 9", "max-commands")]
    [InlineData("max-commands = 1001", "max-commands")]
    [InlineData("delay-buckets = []", "delay-buckets")]
    [InlineData("delay-buckets = [0.1, 0.01]", "delay-buckets")]
    [InlineData("delay-buckets = [0, 1]", "delay-buckets")]
    [InlineData("delay-buckets = [fast, slow]", "delay-buckets")]
    [InlineData("process-metrics = sometimes", "process-metrics")]
    public void Settings_should_refuse_bad_values_naming_the_key(string hocon, string key)
    {
        var e = Refused(hocon);
        Assert.Equal($"taskstats.sinks.prometheus.{key}", e.Key);
        Assert.NotNull(e.Valid);
    }

    [Fact]
    public void Settings_should_read_delay_buckets_in_seconds()
    {
        Assert.Equal([0.001, 0.5, 2], Read("delay-buckets = [0.001, 0.5, 2]").DelayBuckets);
    }

    [Fact]
    public void Settings_should_name_keys_it_does_not_know()
    {
        var config = ConfigurationFactory.ParseString("class = x\nbuffer = 4\nlisten = \"127.0.0.1:1\"\ntop-comands = 5\nport = 9");
        Assert.Equal(["port", "top-comands"], PrometheusSinkSettings.UnknownKeys(config));
    }

    /// <summary>The block proposed for <c>config/taskstats.conf</c>, as it would stand under <c>taskstats.sinks</c>.</summary>
    private const string ProposedBlock = """
    # Prometheus: serves /metrics for a Prometheus server to scrape (text format 0.0.4). Per shard:
    # taskstats_records_total, taskstats_lost_total{source}, taskstats_enobufs_incidents_total,
    # taskstats_listener_restarts_total, taskstats_socket_queued_bytes (buffer depth),
    # taskstats_receive_buffer_bytes, taskstats_shard_info{cpus}; per command: taskstats_exits_total{comm}
    # and the histogram taskstats_delay_seconds{comm,category} (each exiting task's total delay of each
    # category: cpu, blkio, swapin, reclaim, thrashing, compact, wpcopy, irq); taskstats_command_labels.
    # No TLS, no authentication: keep it on loopback, or behind a firewall or a proxy that adds them.
    prometheus {
      class = "TaskstatsActors.Collector.Sinks.PrometheusSink, TaskstatsActors.Collector"
      # Where /metrics is served: "address:port" with an IPv4 address, a bracketed IPv6 address, or
      # localhost (= 127.0.0.1). The default is loopback only: nothing off this host can scrape it.
      # "0.0.0.0:9464" opens it to every IPv4 interface. Port 0 takes a free port (logged at start).
      # If the port is taken at start, the sink logs an error, keeps counting, and tries again at
      # every aggregation window. Default: "127.0.0.1:9464"
      listen = "127.0.0.1:9464"
      # The comm label is bounded: the first top-commands commands seen get a label of their own at
      # once; after that, a command gets one when an aggregation window ends with it among that
      # window's top-commands commands by exits (with at least 2 exits and 1 % of the window's), until
      # max-commands commands have labels. Labels are never withdrawn while the collector runs; every
      # other exit is counted under comm="other" (so is a command literally named "other").
      # Series per label: 1 counter + 8 histograms of (buckets + 3) series each: 81 with the default
      # buckets, so at most (40 + "other") x 81 = 3,321 series with the defaults.
      # Valid: a whole number from 0 to 1000 (0: everything is "other"). Default: 20
      top-commands = 20
      # The hard cap on commands with a label. Valid: from top-commands to 1000. Default: 2 x top-commands
      max-commands = 40
      # Upper bounds, in seconds, of the delay histograms' buckets (+Inf is added).
      # Valid: 1 to 30 positive, increasing numbers. Default: decades from 10 us to 10 s
      delay-buckets = [ 0.00001, 0.0001, 0.001, 0.01, 0.1, 1, 10 ]
      # Also export the collector process's own figures (process_cpu_seconds_total,
      # process_working_set_bytes, dotnet_collection_count_total, ...). Valid: on | off. Default: on
      process-metrics = on
      # Counting is in memory and fast; every exit should be counted, so slow the stream rather than drop.
      buffer = 256
      overflow = backpressure
    }
    """;

    [Fact]
    public void Proposed_config_block_should_load_through_the_settings_loader_with_the_defaults()
    {
        var loaded = SettingsLoader.Load(ConfigurationFactory.ParseString($"taskstats.sinks {{\n{ProposedBlock}\n}}"));

        var sink = Assert.Single(loaded.Sinks);
        Assert.Equal(("prometheus", typeof(PrometheusSink), 256, SinkOverflow.Backpressure), (sink.Name, sink.Type, sink.Buffer, sink.Overflow));
        var fromBlock = PrometheusSinkSettings.Read(new SinkContext(sink.Name, sink.Config, loaded.Shards));
        var defaults = Read("");
        Assert.Equal(defaults.Listen, fromBlock.Listen);
        Assert.Equal((defaults.TopCommands, defaults.MaxCommands, defaults.ProcessMetrics), (fromBlock.TopCommands, fromBlock.MaxCommands, fromBlock.ProcessMetrics));
        Assert.Equal(defaults.DelayBuckets, fromBlock.DelayBuckets);
        Assert.Empty(PrometheusSinkSettings.UnknownKeys(sink.Config));
    }
}
