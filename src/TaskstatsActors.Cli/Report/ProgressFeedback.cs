using Spectre.Console;

namespace TaskstatsActors.Cli.Report;

/// <summary>
/// Shows that a slow step is working: when it has not finished after <see cref="Delay"/>, a spinner with the
/// step's latest status line runs (on stderr) until it does. Silent where no person watches a terminal:
/// when stdout or stderr is redirected, or the output is for a program (JSON, CSV).
/// </summary>
internal sealed class ProgressFeedback
{
    /// <summary>How long a step may take before the spinner appears: quick answers never flicker.</summary>
    public static readonly TimeSpan DefaultDelay = TimeSpan.FromSeconds(1);

    private readonly IAnsiConsole? _console;

    /// <summary>Feedback on <paramref name="console"/> after <paramref name="delay"/>; none when the console is null.</summary>
    public ProgressFeedback(IAnsiConsole? console, TimeSpan delay)
    {
        _console = console;
        Delay = delay;
    }

    /// <summary>No feedback at all.</summary>
    public static ProgressFeedback Silent { get; } = new(null, DefaultDelay);

    /// <summary>Whether a spinner can appear.</summary>
    public bool Enabled => _console is not null;

    /// <summary>How long a step runs before the spinner appears.</summary>
    public TimeSpan Delay { get; }

    /// <summary>
    /// The feedback for a command run by <paramref name="environment"/>: a spinner on the real stderr when both
    /// stdout and stderr are terminals and <paramref name="forPeople"/>; otherwise silent.
    /// </summary>
    public static ProgressFeedback For(CliEnvironment environment, bool forPeople)
    {
        if (!forPeople || !ReferenceEquals(environment.Out, Console.Out) || !ReferenceEquals(environment.Error, Console.Error)
            || Console.IsOutputRedirected || Console.IsErrorRedirected)
            return Silent;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Ansi = AnsiSupport.Detect,
            Interactive = InteractionSupport.Detect,
        });
        return console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi ? new ProgressFeedback(console, DefaultDelay) : Silent;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the thread pool and returns its result, showing a spinner if it takes long.
    /// The work reports its current step through the <see cref="IProgress{T}"/> it is given.
    /// </summary>
    /// <param name="status">The spinner's first status line.</param>
    /// <param name="work">The slow step.</param>
    /// <param name="cancellationToken">Stops waiting (the work is abandoned: it only reads).</param>
    public async Task<T> RunAsync<T>(string status, Func<IProgress<string>, T> work, CancellationToken cancellationToken)
    {
        var latest = new LatestStatus(status);
        var task = Task.Run(() => work(latest), CancellationToken.None);
        if (_console is not { } console)
            return await task.WaitAsync(cancellationToken);
        var quick = await Task.WhenAny(task, Task.Delay(Delay, cancellationToken));
        if (quick == task || cancellationToken.IsCancellationRequested)
            return await task.WaitAsync(cancellationToken);
        await console.Status()
            .Spinner(Spinner.Known.Dots)
            .StartAsync(Markup.Escape(latest.Text), async context =>
            {
                while (!task.IsCompleted && !cancellationToken.IsCancellationRequested)
                {
                    context.Status(Markup.Escape(latest.Text));
                    await Task.WhenAny(task, Task.Delay(100, cancellationToken));
                }
            });
        return await task.WaitAsync(cancellationToken);
    }

    /// <summary>The last status the work reported, read by the spinner's loop.</summary>
    private sealed class LatestStatus(string initial) : IProgress<string>
    {
        private volatile string _text = initial;

        public string Text => _text;

        public void Report(string value) => _text = value + "…";
    }
}
