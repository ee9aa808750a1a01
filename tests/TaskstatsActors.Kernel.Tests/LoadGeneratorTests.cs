using TaskstatsActors.TestSupport;

namespace TaskstatsActors.Kernel.Tests;

public sealed class LoadGeneratorTests
{
    [Theory]
    [InlineData(LoadMode.Fork, 1, 20)]
    [InlineData(LoadMode.Fork, 3, 31)]
    [InlineData(LoadMode.Vfork, 2, 200)]
    [InlineData(LoadMode.Thread, 2, 500)]
    public async Task LoadGenerator_should_make_exactly_the_exits_asked_for(LoadMode mode, int workers, long count)
    {
        var result = await LoadGenerator.RunAsync(new LoadOptions
        {
            Mode = mode,
            Workers = workers,
            Count = count,
            Comm = LoadGenerator.UniqueComm("lgtest"),
        });

        Assert.Equal(count, result.Exits);
        Assert.True(result.Seconds > 0);
        Assert.True(result.Rate > 0);
    }

    [Fact]
    public async Task LoadGenerator_should_stop_after_the_duration_when_no_count_is_given()
    {
        var result = await LoadGenerator.RunAsync(new LoadOptions
        {
            Mode = LoadMode.Thread,
            Duration = TimeSpan.FromMilliseconds(300),
            Rate = 1000,
            Cpu = 0,
        });

        Assert.InRange(result.Seconds, 0.25, 5);
        Assert.InRange(result.Exits, 100, 400);
    }

    [Fact]
    public async Task LoadGenerator_should_report_its_own_errors()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LoadGenerator.RunAsync(new LoadOptions
        {
            Mode = LoadMode.Vfork,
            Count = 1,
            WorkMicroseconds = 10,
        }));

        Assert.Contains("a vfork child may only _exit", error.Message);
    }

    [Fact]
    public async Task LoadGenerator_should_stop_when_cancelled()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LoadGenerator.RunAsync(
            new LoadOptions { Mode = LoadMode.Thread, Duration = TimeSpan.FromSeconds(30) }, cancel.Token));
    }

    [Fact]
    public void UniqueComm_should_fit_the_kernel_comm_and_never_repeat()
    {
        var names = Enumerable.Range(0, 1000).Select(_ => LoadGenerator.UniqueComm("a-very-long-prefix")).ToList();

        Assert.All(names, name => Assert.InRange(name.Length, 1, 15));
        Assert.All(names, name => Assert.StartsWith("a-very-lo", name));
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public void Arguments_should_need_a_count_or_a_duration()
    {
        Assert.Throws<ArgumentException>(() => LoadGenerator.Arguments(new LoadOptions { Mode = LoadMode.Fork }));
    }

    [Fact]
    public void Arguments_should_spell_every_option()
    {
        var arguments = LoadGenerator.Arguments(new LoadOptions
        {
            Mode = LoadMode.Vfork,
            Workers = 2,
            Count = 10,
            Duration = TimeSpan.FromSeconds(1.5),
            Rate = 100,
            Comm = "abc",
            Cpu = 1,
            ExitCode = 7,
        });

        Assert.Equal(
            ["--mode", "vfork", "--workers", "2", "--count", "10", "--duration", "1.5", "--rate", "100", "--comm", "abc", "--cpu", "1", "--exit-code", "7"],
            arguments);
    }
}
