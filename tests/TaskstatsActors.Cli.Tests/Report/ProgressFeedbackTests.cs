using Spectre.Console;
using TaskstatsActors.Cli.Report;

namespace TaskstatsActors.Cli.Tests.Report;

/// <summary>The spinner of slow steps: after the delay only, with the step's latest status, and never into a file or a pipe.</summary>
public sealed class ProgressFeedbackTests
{
    /// <summary>A terminal that records what was drawn on it.</summary>
    private static (ProgressFeedback Feedback, Screen Screen) Terminal(TimeSpan delay)
    {
        var screen = new Screen();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(screen.Writer),
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Standard,
            Interactive = InteractionSupport.Yes,
        });
        return (new ProgressFeedback(console, delay), screen);
    }

    [Fact]
    public async Task A_quick_step_should_draw_nothing()
    {
        var (feedback, screen) = Terminal(TimeSpan.FromSeconds(5));

        var answer = await feedback.RunAsync("opening", _ => 42, CancellationToken.None);

        Assert.Equal(42, answer);
        Assert.Equal("", Drawn(screen));
    }

    [Fact]
    public async Task A_slow_step_should_show_a_spinner_with_its_latest_status_until_it_ends()
    {
        var (feedback, screen) = Terminal(TimeSpan.FromMilliseconds(100));

        var answer = await feedback.RunAsync("opening data/taskstats.db", status =>
        {
            WaitUntilDrawn(screen, "opening data/taskstats.db");
            status.Report("summing 1,234 exits by comm");
            WaitUntilDrawn(screen, "summing 1,234 exits by comm…");
            return "done";
        }, CancellationToken.None);

        Assert.Equal("done", answer);
        var drawn = Drawn(screen);
        Assert.Contains("summing 1,234 exits by comm…", drawn);
        Assert.Contains("\u001b[", drawn); // drawn and redrawn in place
    }

    /// <summary>What the spinner drew; it draws from its own thread, so reads and writes take the writer's lock.</summary>
    private sealed class Screen
    {
        private readonly StringWriter _text = new();

        public Screen() => Writer = TextWriter.Synchronized(_text);

        public TextWriter Writer { get; }

        public string Drawn()
        {
            lock (Writer)
                return _text.ToString();
        }
    }

    private static string Drawn(Screen screen) => screen.Drawn();

    private static void WaitUntilDrawn(Screen screen, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!Drawn(screen).Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"'{text}' was not drawn: {Drawn(screen)}");
            Thread.Sleep(20);
        }
    }

    [Fact]
    public async Task A_failing_step_should_throw_its_own_exception()
    {
        var (feedback, _) = Terminal(TimeSpan.FromMilliseconds(50));

        var error = await Assert.ThrowsAsync<CliException>(() => feedback.RunAsync<int>("opening", _ =>
        {
            Thread.Sleep(200);
            throw new CliException("no history", ExitCode.Failure);
        }, CancellationToken.None));

        Assert.Equal("no history", error.Message);
    }

    [Fact]
    public void Output_that_is_not_the_terminal_should_get_no_feedback()
    {
        var environment = new CliEnvironment(new StringWriter(), new StringWriter(), () => throw new InvalidOperationException());

        Assert.False(ProgressFeedback.For(environment, forPeople: true).Enabled);
        Assert.False(ProgressFeedback.For(CliEnvironment.Real, forPeople: false).Enabled); // --json, --csv
    }
}
