using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Cli.Tests;

/// <summary><c>collect</c> through the command line, against the fake kernel: its config errors and a whole timed run.</summary>
public sealed class CollectCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("taskstats-cli-collect-").FullName;

    private string Config(string body)
    {
        var path = Path.Combine(_directory, "taskstats.conf");
        File.WriteAllText(path, body);
        return path;
    }

    private static FakeKernel KernelWithUs()
    {
        var kernel = new FakeKernel();
        // collect checks first that it may ask the kernel for something: our own stats.
        kernel.LiveTasks[(uint)Environment.ProcessId] = ExitMessageBuilder.Stats((uint)Environment.ProcessId, "testhost");
        return kernel;
    }

    [Fact]
    public async Task Collect_should_run_for_its_duration_and_print_the_summary()
    {
        var jsonl = Path.Combine(_directory, "exits.jsonl");
        var path = Config($$"""
            taskstats {
              shards = [ "0" ]
              status-interval = 0s
              sinks.jsonl { class = "TaskstatsActors.Collector.Sinks.JsonLinesSink, TaskstatsActors.Collector", path = "{{jsonl}}" }
            }
            """);

        var result = await CliHarness.RunAsync(KernelWithUs(), "collect", "--config", path, "--duration", "300ms");

        Assert.True(result.ExitCode == ExitCode.Success, result.ToString());
        Assert.Contains(result.OutLines, line => line.StartsWith("collected for", StringComparison.Ordinal) && line.Contains("0 lost"));
        Assert.True(File.Exists(jsonl));
    }

    [Theory]
    [InlineData("taskstats.shards = [ \"0-1\", \"1\" ]", "overlap")]
    [InlineData("taskstats.shards = [ \"7\" ]", "not online")]
    [InlineData("taskstats.receive-buffer = 128 MiB\ntaskstats.max-receive-buffer = 64 MiB", "receive-buffer")]
    [InlineData("taskstats.sinks.x.class = \"No.Such.Sink, Nowhere\"", "taskstats.sinks.x.class")]
    [InlineData("taskstats.delay-accounting = sometimes", "taskstats.delay-accounting")]
    public async Task A_bad_config_should_exit_8_with_one_line_naming_the_key(string body, string expected)
    {
        var path = Config(body);

        var result = await CliHarness.RunAsync(KernelWithUs(), "collect", "--config", path, "--duration", "1s");

        Assert.Equal(ExitCode.BadConfig, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task An_akka_setting_the_actors_cannot_be_made_with_should_exit_8_with_one_line_naming_it()
    {
        var path = Config("""
            taskstats { shards = [ "0" ], status-interval = 0s }
            akka.actor.deployment { "/collector/watchdog" { dispatcher = no-such-dispatcher } }
            """);

        var result = await CliHarness.RunAsync(KernelWithUs(), "collect", "--config", path, "--duration", "30s");

        Assert.True(result.ExitCode == ExitCode.BadConfig, result.ToString());
        var line = Assert.Single(result.ErrorLines, l => !l.StartsWith("warning:", StringComparison.Ordinal));
        Assert.Contains("no-such-dispatcher", line);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.DoesNotContain("   at ", result.Out);
    }

    [Fact]
    public async Task A_missing_config_file_should_exit_8_naming_the_file()
    {
        var missing = Path.Combine(_directory, "nope.conf");

        var result = await CliHarness.RunAsync(KernelWithUs(), "collect", "--config", missing);

        Assert.Equal(ExitCode.BadConfig, result.ExitCode);
        Assert.Contains("nope.conf", Assert.Single(result.ErrorLines));
    }

    [Fact]
    public async Task Collect_without_the_capability_should_exit_3_before_starting()
    {
        var path = Config("taskstats.shards = [ \"0\" ]");
        var kernel = KernelWithUs();
        kernel.CommandErrno = TaskstatsActors.Kernel.Netlink.Errno.EPERM;

        var result = await CliHarness.RunAsync(kernel, "collect", "--config", path, "--duration", "1s");

        Assert.Equal(ExitCode.MissingCapability, result.ExitCode);
        // Config warnings may come first (CPU 1 is in no shard here); the error is one line.
        Assert.Contains("CAP_NET_ADMIN", Assert.Single(result.ErrorLines, line => line.StartsWith("taskstats-actors:", StringComparison.Ordinal)));
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task A_bad_duration_should_exit_2()
    {
        var result = await CliHarness.RunAsync(KernelWithUs(), "collect", "--duration", "soon");

        Assert.Equal(ExitCode.BadArguments, result.ExitCode);
        Assert.Contains("--duration", result.Error);
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
