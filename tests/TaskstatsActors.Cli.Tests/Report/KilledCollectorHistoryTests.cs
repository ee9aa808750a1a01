using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using TaskstatsActors.Cli.Tests.RealKernel;
using TaskstatsActors.TestSupport;
using Xunit.Abstractions;

namespace TaskstatsActors.Cli.Tests.Report;

/// <summary>
/// The real thing: <c>taskstats-actors collect</c> in a child process, with the history sink only, writing the exit
/// records of a load generator, killed with SIGKILL in the middle of writing, three times over on the same file.
/// After each kill the file must pass <c>PRAGMA integrity_check</c>, keep everything committed before, lag the kill
/// by no more than the open batch, and let the next collector go on writing to it; at the end <c>report</c> answers.
/// </summary>
[Collection(RealKernelCollection.Name)]
public sealed class KilledCollectorHistoryTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(500);

    private readonly string _directory = Directory.CreateTempSubdirectory("taskstats-killed-collector-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [SkippableFact]
    public async Task A_collector_killed_mid_write_should_leave_an_intact_history_that_report_can_question()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        var executable = Path.Combine(AppContext.BaseDirectory, "taskstats-actors");
        Skip.IfNot(File.Exists(executable), $"the command line is not beside the tests: {executable}");
        var database = Path.Combine(_directory, "taskstats.db");
        var config = Path.Combine(_directory, "history-only.conf");
        await File.WriteAllTextAsync(config, $$"""
            taskstats {
              status-interval = 0s
              sinks.history {
                class = "TaskstatsActors.Collector.Sinks.SqliteSink, TaskstatsActors.Collector"
                path = "{{database}}"
                flush-interval = {{FlushInterval.TotalMilliseconds}}ms
                flush-records = 2000
                buffer = 256
              }
            }
            """);
        var comm = LoadGenerator.UniqueComm("tskill");
        using var stopLoad = new CancellationTokenSource();
        // Paced, so that the machine stays responsive; the collector writes a commit every 2,000 records or 0.5 s.
        var load = LoadGenerator.RunAsync(new LoadOptions { Mode = LoadMode.Thread, Workers = 1, Rate = 8_000, Duration = TimeSpan.FromMinutes(3), Comm = comm }, stopLoad.Token);

        long committed = 0;
        try
        {
            for (var round = 1; round <= 3; round++)
            {
                using var collector = Start(executable, config);
                // Wait until this collector has committed records of its own, then kill it at an arbitrary moment.
                var target = committed + 5_000;
                var deadline = DateTime.UtcNow + Patience;
                while (Count(database, comm) < target)
                {
                    Assert.True(DateTime.UtcNow < deadline, $"round {round}: fewer than {target} records after {Patience}; collector said: {collector.Output()}");
                    Assert.False(collector.Process.HasExited, $"round {round}: the collector exited: {collector.Output()}");
                    await Task.Delay(100);
                }
                await Task.Delay(Random.Shared.Next(0, 700));
                var killedAt = DateTimeOffset.UtcNow;
                collector.Process.Kill(); // SIGKILL: no flush, no close
                await collector.Process.WaitForExitAsync().WaitAsync(Patience);

                using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
                connection.Open();
                Assert.Equal("ok", Scalar(connection, "PRAGMA integrity_check"));
                var count = Count(database, comm);
                var newest = DateTimeOffset.UnixEpoch.AddTicks(Convert.ToInt64(Scalar(connection, "SELECT max(time_us) FROM exits")) * 10);
                output.WriteLine($"round {round}: killed at {killedAt:HH:mm:ss.fff}, {count} records of {comm} kept, the newest received at {newest:HH:mm:ss.fff} ({(killedAt - newest).TotalMilliseconds:0} ms before the kill)");
                Assert.True(count >= target, $"round {round}: {count} records, fewer than the {target} seen committed before the kill");
                // At most the open batch is lost: what was received up to flush-interval before the kill is in the file
                // (plus slack for a loaded machine: the sink may lag the socket by its buffer).
                Assert.True(killedAt - newest < FlushInterval + TimeSpan.FromSeconds(3), $"round {round}: the newest record is {(killedAt - newest).TotalSeconds:0.0} s older than the kill");
                committed = count;
            }
        }
        finally
        {
            await stopLoad.CancelAsync();
            try
            {
                await load;
            }
            catch (OperationCanceledException)
            {
                // Stopped, as asked.
            }
        }

        var report = await ReportCli.RunAsync(["report", "--db", database, "--since", "1h", "--by", "comm", "--sort", "cputime", "--top", "1000", "--json"]);
        Assert.True(report.ExitCode == ExitCode.Success, report.ToString());
        var rows = JsonDocument.Parse(report.Out).RootElement.GetProperty("rows").EnumerateArray();
        var ours = Assert.Single(rows, row => row.GetProperty("comm").GetString() == comm);
        Assert.Equal(committed, ours.GetProperty("exits").GetInt64());
        var losses = await ReportCli.RunAsync(["report", "--db", database, "--losses"]);
        Assert.True(losses.ExitCode == ExitCode.Success, losses.ToString());
    }

    private static long Count(string database, string comm)
    {
        if (!File.Exists(database))
            return 0;
        try
        {
            using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM exits WHERE ac_comm = $comm AND scope = 'pid'";
            command.Parameters.AddWithValue("$comm", comm);
            return Convert.ToInt64(command.ExecuteScalar());
        }
        catch (SqliteException)
        {
            return 0; // the collector is still creating the schema
        }
    }

    private static string Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
    }

    private Child Start(string executable, string config)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var argument in new[] { "collect", "--config", config })
            start.ArgumentList.Add(argument);
        return new Child(Process.Start(start) ?? throw new InvalidOperationException($"cannot start {executable}"));
    }

    /// <summary>A child process whose output is collected as it comes (a full pipe would stall it).</summary>
    private sealed class Child : IDisposable
    {
        private readonly System.Text.StringBuilder _output = new();

        public Child(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output()
        {
            lock (_output)
                return _output.ToString();
        }

        private void Append(string? line)
        {
            if (line is null)
                return;
            lock (_output)
                _output.AppendLine(line);
        }

        public void Dispose()
        {
            if (!Process.HasExited)
                Process.Kill();
            Process.Dispose();
        }
    }
}
