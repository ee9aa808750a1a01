using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TaskstatsActors.Collector.Hosting;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Collector.Tests.Sinks;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Collector.Tests.Hosting;

/// <summary>
/// The collector as an operator runs it: config from HOCON text alone (including a custom sink loaded
/// from its own DLL by <c>class</c> and <c>assembly-path</c>), hosted by the .NET generic host through
/// Akka.Hosting, stopped by the host. The kernel is the fake one, so this runs anywhere.
/// </summary>
public sealed class HostedCollectorSpecs : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("taskstats-hosted-").FullName;

    [Fact]
    public async Task A_custom_sink_named_only_in_HOCON_should_receive_every_exit_and_the_host_should_report_the_summary()
    {
        var report = Path.Combine(_directory, "commands.json");
        var jsonl = Path.Combine(_directory, "exits.jsonl");
        var config = ConfigurationFactory.ParseString($$"""
            taskstats {
              shards = [ "0", "1" ]
              status-interval = 0s
              sinks {
                commands {
                  class = "TaskstatsActors.SampleSink.CommandCountSink, TaskstatsActors.SampleSink"
                  assembly-path = "{{SampleSinkSpecs.PluginPath}}"
                  path = "{{report}}"
                }
                jsonl {
                  class = "TaskstatsActors.Collector.Sinks.JsonLinesSink, TaskstatsActors.Collector"
                  path = "{{jsonl}}"
                }
              }
            }
            """);
        var settings = SettingsLoader.Load(config);
        var kernel = new FakeKernel();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTaskstatsCollector(config, settings, kernel.OpenSocket);
        using var host = builder.Build();
        var result = host.Services.GetRequiredService<CollectorResult>();
        await host.StartAsync();
        Assert.IsType<TimerQueueScheduler>(host.Services.GetRequiredService<ActorSystem>().Scheduler);

        await WaitUntil(() => kernel.ListenerCount(0) == 1 && kernel.ListenerCount(1) == 1, "both listeners registered");
        for (uint pid = 1000; pid < 1100; pid++)
        {
            var comm = pid % 2 == 0 ? "even" : "odd";
            kernel.Exit((int)(pid % 2), new TaskstatsRecord(TaskstatsScope.Pid, pid, ExitMessageBuilder.Stats(pid, comm)));
        }
        await host.StopAsync();

        Assert.NotNull(result.Summary);
        Assert.Equal(100, result.Summary.Records);
        Assert.Equal(0, result.Summary.Lost);
        Assert.Equal(0, kernel.ListenerCount(0) + kernel.ListenerCount(1));
        using var counts = JsonDocument.Parse(File.ReadAllText(report));
        Assert.Equal(50, counts.RootElement.GetProperty("exits").GetProperty("even").GetInt64());
        Assert.Equal(50, counts.RootElement.GetProperty("exits").GetProperty("odd").GetInt64());
        Assert.Equal(100, File.ReadLines(jsonl).Count(line => line.Contains("\"pid\":", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_akka_setting_a_listener_cannot_be_made_with_should_fail_the_start_in_one_line_and_leave_no_listener()
    {
        // listener-0 is made (and registers) before listener-1, whose dispatcher is not defined.
        var config = ConfigurationFactory.ParseString("""
            taskstats {
              shards = [ "0", "1" ]
              status-interval = 0s
            }
            akka.actor.deployment { "/collector/listener-1" { dispatcher = no-such-dispatcher } }
            """);
        var settings = SettingsLoader.Load(config);
        var kernel = new FakeKernel();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTaskstatsCollector(config, settings, kernel.OpenSocket);
        using var host = builder.Build();

        var failure = await Assert.ThrowsAsync<CollectorStartException>(() => host.StartAsync());

        Assert.Contains("no-such-dispatcher", failure.Message);
        Assert.Contains("listener-1", failure.Message);
        Assert.DoesNotContain('\n', failure.Message);
        await WaitUntil(() => kernel.ListenerCount(0) == 0 && kernel.ListenerCount(1) == 0, "no listener left registered");
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(10);
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
