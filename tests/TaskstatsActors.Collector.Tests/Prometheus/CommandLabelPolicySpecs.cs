using CsCheck;
using TaskstatsActors.Collector.Sinks;

namespace TaskstatsActors.Collector.Tests.Prometheus;

public sealed class CommandLabelPolicySpecs
{
    private static string Observe(CommandLabelPolicy policy, string comm, int times = 1)
    {
        var label = "";
        for (var i = 0; i < times; i++)
            label = policy.Observe(comm, out _);
        return label;
    }

    [Fact]
    public void Policy_should_label_the_first_top_commands_at_once_and_count_the_rest_as_other()
    {
        var policy = new CommandLabelPolicy(top: 2, max: 4);

        Assert.Equal("make", policy.Observe("make", out var admitted));
        Assert.True(admitted);
        Assert.Equal("cc1", policy.Observe("cc1", out admitted));
        Assert.True(admitted);
        Assert.Equal("make", policy.Observe("make", out admitted));
        Assert.False(admitted);
        Assert.Equal(CommandLabelPolicy.Other, policy.Observe("sh", out admitted));
        Assert.False(admitted);
        Assert.Equal(["cc1", "make"], policy.Labelled.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Policy_should_promote_a_window_top_command_and_never_withdraw_a_label()
    {
        var policy = new CommandLabelPolicy(top: 2, max: 3);
        Observe(policy, "make");
        Observe(policy, "cc1");
        // In this window "sh" exits most, then "make".
        Assert.Equal(CommandLabelPolicy.Other, Observe(policy, "sh", 50));
        Observe(policy, "make", 10);

        var outcome = policy.CloseWindow();

        Assert.Equal(["sh"], outcome.Admitted);
        Assert.Empty(outcome.Refused);
        Assert.Equal("sh", policy.LabelOf("sh"));
        // The next window has other leaders; cc1, quiet now, keeps its label.
        Observe(policy, "awk", 100);
        Observe(policy, "sed", 90);
        var next = policy.CloseWindow();
        Assert.Empty(next.Admitted);
        Assert.Equal(["awk", "sed"], next.Refused);
        Assert.Equal(["cc1", "make", "sh"], policy.Labelled.Order(StringComparer.Ordinal));
        Assert.Equal(CommandLabelPolicy.Other, policy.LabelOf("awk"));
        Assert.Equal("cc1", policy.LabelOf("cc1"));
        Assert.True(policy.Full);
    }

    [Fact]
    public void Policy_should_rank_a_window_by_exits_then_by_name()
    {
        var policy = new CommandLabelPolicy(top: 2, max: 10);
        Observe(policy, "a");
        Observe(policy, "b"); // the two at-once labels are taken
        Observe(policy, "zeta", 5);
        Observe(policy, "alpha", 5);
        Observe(policy, "mid", 4);

        Assert.Equal(["alpha", "zeta"], policy.CloseWindow().Admitted);
    }

    [Fact]
    public void Policy_should_promote_only_commands_with_a_real_part_of_the_windows_exits()
    {
        var policy = new CommandLabelPolicy(top: 5, max: 10);
        Observe(policy, "init");   // the five labels at once are taken by a quiet start
        Observe(policy, "sshd");
        Observe(policy, "cron");
        Observe(policy, "bash");
        Observe(policy, "agetty");
        policy.CloseWindow();

        Observe(policy, "make", 979);
        Observe(policy, "cc1", 12);   // 1.2 % of 1000 exits
        Observe(policy, "ld", 8);     // 0.8 %
        Observe(policy, "readlink");  // once
        Assert.Equal(["make", "cc1"], policy.CloseWindow().Admitted);

        // A quiet window: one-off commands are no top commands.
        Observe(policy, "date");
        Observe(policy, "uptime");
        Assert.Empty(policy.CloseWindow().Admitted);
        Observe(policy, "df", 2);
        Assert.Equal(["df"], policy.CloseWindow().Admitted);
    }

    [Fact]
    public void Policy_should_count_labelled_commands_in_the_ranking()
    {
        // "make" is labelled and leads the window; only one newcomer fits among the top two.
        var policy = new CommandLabelPolicy(top: 2, max: 10);
        Observe(policy, "make", 100);
        Observe(policy, "cc1");
        Observe(policy, "ld", 20);
        Observe(policy, "as", 10);

        Assert.Equal(["ld"], policy.CloseWindow().Admitted);
    }

    [Fact]
    public void Policy_should_never_give_a_command_named_other_a_label_of_its_own()
    {
        var policy = new CommandLabelPolicy(top: 3, max: 3);
        Assert.Equal(CommandLabelPolicy.Other, policy.Observe(CommandLabelPolicy.Other, out var admitted));
        Assert.False(admitted);
        Observe(policy, CommandLabelPolicy.Other, 100);
        Assert.Empty(policy.CloseWindow().Admitted);
        Assert.Empty(policy.Labelled);
    }

    [Fact]
    public void Policy_with_top_0_should_count_everything_as_other()
    {
        var policy = new CommandLabelPolicy(top: 0, max: 0);
        Assert.Equal(CommandLabelPolicy.Other, Observe(policy, "make", 10));
        Assert.Empty(policy.CloseWindow().Admitted);
        Assert.Empty(policy.Labelled);
    }

    [Fact]
    public void Policy_should_rank_only_the_names_a_window_could_track()
    {
        var policy = new CommandLabelPolicy(top: 1, max: 5, maxTrackedPerWindow: 2);
        Observe(policy, "first");
        Observe(policy, "second", 2);
        Observe(policy, "late", 100); // a third name: not tracked in this window

        Assert.Equal(["second"], policy.CloseWindow().Admitted);
        // A new window tracks it again.
        Observe(policy, "late", 3);
        Assert.Equal(["late"], policy.CloseWindow().Admitted);
    }

    [Fact]
    public void Policy_should_keep_its_labels_stable_and_bounded_whatever_the_workload()
    {
        // Any sequence of exits and window ends: the labelled set only grows, never beyond max, every
        // label value is a labelled command or "other", and a command gets its own label exactly when it is labelled.
        string[] names = ["sh", "make", "cc1", "ld", "as", "awk", "sed", "other", "java", "python3", "x"];
        // An index past the names ends the window.
        var step = Gen.Int[0, names.Length].Select(i => i < names.Length ? names[i] : null);
        Gen.Select(Gen.Int[0, 4], Gen.Int[0, 4], step.Array[0, 300]).Sample((top, extra, steps) =>
        {
            var policy = new CommandLabelPolicy(top, top + extra);
            var seen = new HashSet<string>();
            foreach (var comm in steps)
            {
                if (comm is null)
                    policy.CloseWindow();
                else
                {
                    var label = policy.Observe(comm, out var admitted);
                    Assert.Equal(policy.Labelled.Contains(comm) ? comm : CommandLabelPolicy.Other, label);
                    Assert.True(!admitted || label == comm);
                }
                Assert.Superset(seen, policy.Labelled.ToHashSet());
                Assert.True(policy.Labelled.Count <= top + extra);
                Assert.DoesNotContain(CommandLabelPolicy.Other, policy.Labelled);
                seen = policy.Labelled.ToHashSet();
            }
        });
    }
}
