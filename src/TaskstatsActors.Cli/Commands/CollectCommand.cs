using System.CommandLine;
using Akka.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TaskstatsActors.Collector.Hosting;
using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Kernel.Host;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Commands;

/// <summary>
/// <c>collect [--config FILE] [--duration TIME]</c>: the main job. Runs the actor collector until
/// SIGINT/SIGTERM or the end of the duration, then shuts down gracefully and prints the summary.
/// </summary>
internal static class CollectCommand
{
    /// <summary>The default config's path relative to the executable or the working directory.</summary>
    public const string DefaultConfig = "config/taskstats.conf";

    public static Command Create(CliEnvironment environment)
    {
        var configFile = new Option<FileInfo?>("--config") { Description = $"HOCON config file (default: {DefaultConfig} beside the executable or in the working directory)." };
        var duration = new Option<string?>("--duration") { Description = "Stop after this long, e.g. 30s, 5m, 1h (default: until Ctrl-C or SIGTERM)." };
        var command = new Command("collect", "Collect the exit record of every task on the host with sharded listeners, a backpressured stream and the configured sinks.")
        {
            configFile, duration,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(duration) is { } text && ParseDuration(text) is null)
                result.AddError($"--duration: '{text}' is not a duration (examples: 30s, 5m, 1h, 500ms)");
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(configFile)?.FullName ?? FindDefaultConfig();
            var config = SettingsLoader.ParseFile(path);
            var settings = SettingsLoader.Load(config);
            foreach (var warning in settings.Warnings)
                environment.Error.WriteLine($"warning: {warning}");
            await PreflightAsync(environment, cancellationToken);
            var restoreDelayAccounting = ApplyDelayAccounting(environment, settings.DelayAccounting);
            try
            {
                return await RunHostAsync(environment, config, settings, parse.GetValue(duration) is { } d ? ParseDuration(d) : null, cancellationToken);
            }
            finally
            {
                restoreDelayAccounting?.Invoke();
            }
        });
        return command;
    }

    private static async Task<int> RunHostAsync(CliEnvironment environment, Config config, CollectorSettings settings, TimeSpan? duration, CancellationToken cancellationToken)
    {
        // No defaults: they would watch the working directory for appsettings changes, and the JSON
        // Lines file written there would wake that watcher on every write (measured: ~7 % of a core).
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // The host logs a failed start with its stack trace; the command says why in one line instead.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = CollectorService.ShutdownTimeout + TimeSpan.FromSeconds(10));
        // Under systemd (Type=notify) this reports readiness and stopping, and logs in journald's format.
        builder.Services.AddSystemd();
        builder.Services.AddTaskstatsCollector(config, settings, environment.OpenSocket);
        using var host = builder.Build();
        // RunAsync disposes the host's services when it returns, so take the result holder first.
        var result = host.Services.GetRequiredService<CollectorResult>();
        using var timed = duration is { } d ? new CancellationTokenSource(d) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timed.Token, cancellationToken);
        try
        {
            await host.RunAsync(linked.Token);
        }
        catch (CollectorStartException e)
        {
            throw new CliException(e.Message, ExitCode.BadConfig);
        }
        if (result.Summary is { } summary)
            environment.Out.WriteLine(summary.Format());
        if (result.Problem is { } problem)
            throw new CliException(problem, ExitCode.Failure);
        return ExitCode.Success;
    }

    /// <summary>Fails fast, with the usual one-line errors, where no listener could work.</summary>
    private static async Task PreflightAsync(CliEnvironment environment, CancellationToken cancellationToken)
    {
        using var connection = await TaskstatsConnection.OpenAsync(environment.OpenSocket(), cancellationToken);
        try
        {
            // Registration needs CAP_NET_ADMIN; asking for our own stats is the harmless way to find out.
            await connection.GetByPidAsync(Environment.ProcessId, cancellationToken);
        }
        catch (NetlinkErrorException e) when (e.Errno is Errno.EPERM or Errno.EACCES)
        {
            throw new CliException("collect needs CAP_NET_ADMIN to register its listeners: run as root, or grant the capability " +
                                   "(e.g. AmbientCapabilities=CAP_NET_ADMIN in config/taskstats-actors.service)", ExitCode.MissingCapability);
        }
    }

    private static Action? ApplyDelayAccounting(CliEnvironment environment, DelayAccountingMode mode)
    {
        var switchFile = new DelayAccounting();
        if (switchFile.IsEnabled is not false)
            return null;
        switch (mode)
        {
            case DelayAccountingMode.Require:
                throw new CliException($"kernel.task_delayacct is off and taskstats.delay-accounting = require: {DelayAccounting.HowToEnable}", ExitCode.BadConfig);
            case DelayAccountingMode.Enable:
                switchFile.Set(true);
                environment.Error.WriteLine("delay accounting: turned kernel.task_delayacct on for this run (it is restored at exit)");
                return () => switchFile.Set(false);
            default:
                environment.Error.WriteLine($"warning: kernel.task_delayacct is off, so most delay fields will be 0; {DelayAccounting.HowToEnable}, or set taskstats.delay-accounting = enable");
                return null;
        }
    }

    private static string FindDefaultConfig()
    {
        foreach (var candidate in new[] { Path.Combine(AppContext.BaseDirectory, DefaultConfig), Path.GetFullPath(DefaultConfig) })
        {
            if (File.Exists(candidate))
                return candidate;
        }
        throw new CliException($"no --config given and no {DefaultConfig} beside the executable or in {Environment.CurrentDirectory}", ExitCode.BadConfig);
    }

    /// <summary>Durations as HOCON writes them (30s, 5m, 1h, 500ms).</summary>
    internal static TimeSpan? ParseDuration(string text)
    {
        try
        {
            var value = ConfigurationFactory.ParseString($"d = {text}").GetTimeSpan("d", null, allowInfinite: false);
            return value > TimeSpan.Zero ? value : null;
        }
        catch (Exception)
        {
            return null;
        }
    }
}
