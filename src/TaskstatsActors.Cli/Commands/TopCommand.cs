using System.CommandLine;
using System.Threading.Channels;
using TaskstatsActors.Cli.Top;
using TaskstatsActors.Kernel.Host;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Commands;

/// <summary>
/// <c>top</c>: a live view in the spirit of delaytop and iotop. Every interval it asks the kernel for
/// every live process's stats by tgid and shows, per process, the share of the interval spent waiting
/// in each delay category, CPU use and I/O rate, sorted by a column picked with a key. With
/// <c>--batch</c> (or when output is not a terminal) it prints plain tables for scripts, like <c>iotop -b</c>.
/// </summary>
internal static class TopCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var interval = new Option<string>("--interval") { Description = "Time between samples, e.g. 2s, 500ms.", DefaultValueFactory = _ => "2s" };
        var batch = new Option<bool>("--batch") { Description = "Print plain text tables, one per interval, for scripts (like iotop -b)." };
        var iterations = new Option<int?>("--iterations") { Description = "Stop after N tables." };
        var sort = new Option<string>("--sort")
        {
            Description = $"Column to sort by: {string.Join(", ", Enum.GetValues<TopColumn>().Select(TopColumns.Name))}.",
            DefaultValueFactory = _ => "cpu",
        };
        var top = new Option<int?>("--top") { Description = "Rows to show (default 20)." };
        var command = new Command("top", "Live per-process delay, CPU and I/O rates, sorted by a column you pick with a key (q quits).")
        {
            interval, batch, iterations, sort, top,
        };
        command.Validators.Add(result =>
        {
            if (result.ValueOrDefault(interval) is { } text && CollectCommand.ParseDuration(text) is null)
                result.AddError($"--interval: '{text}' is not a duration (examples: 2s, 500ms)");
            if (result.ValueOrDefault(sort) is { } name && TopColumns.Parse(name) is null)
                result.AddError($"--sort: '{name}' is not a column; valid: {string.Join(", ", Enum.GetValues<TopColumn>().Select(TopColumns.Name))}");
            if (result.ValueOrDefault(iterations) is <= 0 || result.ValueOrDefault(top) is <= 0)
                result.AddError("--iterations and --top are positive numbers");
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var every = CollectCommand.ParseDuration(parse.GetValue(interval)!)!.Value;
            using var connection = await TaskstatsConnection.OpenAsync(environment.OpenSocket(), cancellationToken);
            var view = new TopView(environment.Out, new ProcessSampler(connection), TopColumns.Parse(parse.GetValue(sort)!)!.Value,
                parse.GetValue(top) ?? 20, every, new DelayAccounting().IsEnabled);
            var interactive = !parse.GetValue(batch) && !Console.IsOutputRedirected && !Console.IsInputRedirected;
            await view.RunAsync(interactive, parse.GetValue(iterations), cancellationToken);
            return ExitCode.Success;
        });
        return command;
    }

    /// <summary>The sampling loop and the screen.</summary>
    private sealed class TopView(TextWriter output, ProcessSampler sampler, TopColumn sort, int top, TimeSpan interval, bool? delayAccounting)
    {
        private IReadOnlyList<TopRow> _rows = [];

        public async Task RunAsync(bool interactive, int? iterations, CancellationToken cancellationToken)
        {
            var keys = interactive ? KeyReader.Start() : null;
            if (interactive)
                output.Write("\x1b[?1049h"); // the alternate screen, restored on exit like top's
            try
            {
                Show(interactive, "sampling every process, first figures in " + $"{interval.TotalSeconds:0.#}s ...");
                await sampler.SampleAsync(cancellationToken);
                for (var shown = 0; iterations is null || shown < iterations; shown++)
                {
                    var due = DateTime.UtcNow + interval;
                    while (DateTime.UtcNow < due)
                    {
                        if (keys is null)
                        {
                            await Task.Delay(due - DateTime.UtcNow, cancellationToken);
                            break;
                        }
                        var key = await keys.WaitAsync(due - DateTime.UtcNow, cancellationToken);
                        if (key is 'q' or 'Q')
                            return;
                        if (key is { } k && TopColumns.ForKey(k) is { } column)
                        {
                            sort = column;
                            Show(interactive, null);
                        }
                    }
                    _rows = await sampler.SampleAsync(cancellationToken);
                    Show(interactive, null);
                }
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C ends the view.
            }
            finally
            {
                if (interactive)
                    output.Write("\x1b[?1049l");
                output.Flush();
            }
        }

        private void Show(bool interactive, string? note)
        {
            if (interactive)
                output.Write("\x1b[H\x1b[2J");
            output.Write(TopRenderer.Render(_rows, sort, top, DateTime.Now, interval, delayAccounting));
            if (note is not null)
                output.WriteLine(note);
            if (interactive)
                output.WriteLine(TopRenderer.KeyHelp());
            else
                output.WriteLine();
            output.Flush();
        }
    }

    /// <summary>Reads keys on a thread of its own, so the view can wait for a key or the next interval.</summary>
    private sealed class KeyReader
    {
        private readonly Channel<char> _keys = Channel.CreateUnbounded<char>();

        public static KeyReader Start()
        {
            var reader = new KeyReader();
            var thread = new Thread(() =>
            {
                while (true)
                    reader._keys.Writer.TryWrite(Console.ReadKey(intercept: true).KeyChar);
            }) { IsBackground = true, Name = "top keys" };
            thread.Start();
            return reader;
        }

        /// <summary>The next key, or null when <paramref name="wait"/> passes first.</summary>
        public async Task<char?> WaitAsync(TimeSpan wait, CancellationToken cancellationToken)
        {
            if (wait <= TimeSpan.Zero)
                return null;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(wait);
            try
            {
                return await _keys.Reader.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }
    }
}
