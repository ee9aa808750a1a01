using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Prometheus;

/// <summary>
/// A real Prometheus server (Debian's <c>prometheus</c> package) run by a test: on 127.0.0.1 with a free
/// port, a temporary config and storage directory, scraping one target every second. Every request goes
/// to 127.0.0.1, every wait is bounded, and disposing kills the server and deletes its directory.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _log;

    private PrometheusServer(Process process, string directory, StringBuilder log, int port)
    {
        _process = process;
        _directory = directory;
        _log = log;
        Port = port;
    }

    /// <summary>The port of the server's HTTP API on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>What the server printed so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    /// <summary>The <c>prometheus</c> binary on PATH, or null.</summary>
    public static string? Find()
    {
        if (!OperatingSystem.IsLinux())
            return null;
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin"))
        {
            var candidate = Path.Combine(dir, "prometheus");
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & UnixFileMode.UserExecute) != 0)
                return candidate;
        }
        return null;
    }

    /// <summary>
    /// Starts the server scraping <c>http://{target}/metrics</c> every second as job <c>taskstats</c>, and
    /// waits until it is ready (at most 60 s).
    /// </summary>
    public static async Task<PrometheusServer> StartAsync(string binary, string target, ITestOutputHelper output)
    {
        // The port is free when picked; if another process takes it first, the server exits and we pick again.
        for (var attempt = 1; ; attempt++)
        {
            var server = Launch(binary, target, Scrape.FreePort(), output);
            try
            {
                await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
                return server;
            }
            catch (Exception) when (attempt < 3 && server._process.HasExited)
            {
                output.WriteLine($"prometheus exited at start (attempt {attempt}); trying another port:\n{server.Log}");
                await server.DisposeAsync();
            }
        }
    }

    private static PrometheusServer Launch(string binary, string target, int port, ITestOutputHelper output)
    {
        var directory = Directory.CreateTempSubdirectory("taskstats-prometheus-").FullName;
        var config = Path.Combine(directory, "prometheus.yml");
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: taskstats
                static_configs:
                  - targets: ['{target}']
            """);
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     $"--config.file={config}",
                     $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                     $"--web.listen-address=127.0.0.1:{port}",
                 })
            start.ArgumentList.Add(argument);
        var log = new StringBuilder();
        var process = new Process { StartInfo = start };
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (log)
                log.AppendLine(e.Data);
        };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        output.WriteLine($"started {binary} (pid {process.Id}) on 127.0.0.1:{port}, scraping {target} every 1 s");
        return new PrometheusServer(process, directory, log, port);
    }

    private async Task WaitReadyAsync(TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"prometheus exited with status {_process.ExitCode}:\n{Log}");
            try
            {
                using var response = await Http.GetAsync($"http://127.0.0.1:{Port}/-/ready");
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"prometheus was not ready within {patience.TotalSeconds:0} s:\n{Log}");
            await Task.Delay(100);
        }
    }

    /// <summary>Evaluates an instant PromQL query through the HTTP API; the first result's value, or null for an empty result.</summary>
    public async Task<double?> QueryAsync(string promql)
    {
        var url = $"http://127.0.0.1:{Port}/api/v1/query?query={Uri.EscapeDataString(promql)}";
        using var response = await Http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        if (root.GetProperty("status").GetString() != "success")
            throw new InvalidOperationException($"query {promql} failed: {body}");
        var result = root.GetProperty("data").GetProperty("result");
        if (result.GetArrayLength() == 0)
            return null;
        return double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>Queries every 250 ms until the value satisfies <paramref name="done"/>, at most <paramref name="patience"/>; returns the last value.</summary>
    public async Task<double?> QueryUntilAsync(string promql, Func<double?, bool> done, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var value = await QueryAsync(promql);
            if (done(value) || DateTime.UtcNow > deadline)
                return value;
            await Task.Delay(250);
        }
    }

    /// <summary>The server's view of its targets (health, last error), for failure messages.</summary>
    public async Task<string> TargetsAsync()
    {
        try
        {
            return await Http.GetStringAsync($"http://127.0.0.1:{Port}/api/v1/targets");
        }
        catch (Exception e)
        {
            return $"(targets unavailable: {e.Message})";
        }
    }

    /// <summary>Stops the server and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        finally
        {
            _process.Dispose();
            if (Directory.Exists(_directory))
                Directory.Delete(_directory, recursive: true);
        }
    }
}
