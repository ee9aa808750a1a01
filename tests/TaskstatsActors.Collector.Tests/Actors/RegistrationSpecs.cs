using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>Exits that reach a new socket before the kernel's acknowledgement of its registration are delivered too.</summary>
public sealed class RegistrationSpecs : CollectorSpec
{
    public RegistrationSpecs(ITestOutputHelper output) : base(output) { }

    [Fact]
    public void Exits_that_arrive_before_the_registration_is_acknowledged_should_reach_the_sinks()
    {
        var early = new List<ExitKey>();
        Host.Kernel.WhileRegistering = (_, mask) =>
        {
            if (mask.Contains(0) && early.Count == 0)
                early.AddRange([Host.Exit(0), Host.Exit(0), Host.Exit(0)]);
        };
        var journal = NewJournal();
        var collector = StartCollector(Settings([0, 1], [journal.Settings("journal", buffer: 4)]));

        Until(() => early.Count == 3, "the first listener to register");
        var later = Host.Exit(0);
        var summary = ShutDown(collector);

        Assert.Equal([.. early, later], journal.Received.ToList());
        Assert.Equal(0, summary.Lost);
    }
}
