using TaskstatsActors.Collector.Settings;
using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Collector.Tests.Settings;

public sealed class ShardLayoutSpecs : IDisposable
{
    private readonly SettingsFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private string[] Layout(string hocon, string online, params string[] nodes) =>
        SettingsLoader.Load(SettingsFixture.Hocon(hocon + SettingsFixture.NullSink), _fixture.Sysfs(online, nodes)).Shards
            .Select(shard => shard.Cpus.ToString()).ToArray();

    private static string[] Groups(int first, int last, int size)
    {
        var groups = new List<string>();
        for (var start = first; start <= last; start += size)
            groups.Add(CpuMask.Range(start, Math.Min(start + size - 1, last)).ToString());
        return [.. groups];
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(16, 1)]
    [InlineData(17, 2)]
    [InlineData(48, 2)]
    [InlineData(64, 2)]
    [InlineData(96, 4)]
    [InlineData(256, 4)]
    [InlineData(512, 8)]
    [InlineData(1024, 8)]
    [InlineData(4096, 16)]
    public void AutoCpusPerShard_should_follow_the_documented_table(int online, int expected) =>
        Assert.Equal(expected, ShardLayout.AutoCpusPerShard(online));

    [Fact]
    public void Auto_should_give_one_cpu_host_one_shard() =>
        Assert.Equal(["0"], Layout("taskstats.shards = auto", "0"));

    [Fact]
    public void Auto_should_give_two_cpu_host_one_listener_per_cpu() =>
        Assert.Equal(["0", "1"], Layout("taskstats.shards = auto", "0-1"));

    [Fact]
    public void Auto_should_give_sixteen_cpus_one_listener_each() =>
        Assert.Equal(Groups(0, 15, 1), Layout("taskstats { shards = auto, cpus-per-shard = auto }", "0-15"));

    [Fact]
    public void Auto_should_pair_adjacent_cpus_on_48_cpus() =>
        Assert.Equal(Groups(0, 47, 2), Layout("taskstats.shards = auto", "0-47"));

    [Fact]
    public void Auto_should_group_96_cpus_by_four_within_each_of_two_numa_nodes()
    {
        var shards = Layout("taskstats.shards = auto", "0-95", "0-47", "48-95");

        Assert.Equal([.. Groups(0, 47, 4), .. Groups(48, 95, 4)], shards);
    }

    [Fact]
    public void Auto_should_never_mix_interleaved_numa_nodes_in_one_shard()
    {
        // Common on two-socket hosts with SMT: each node owns two ranges.
        var node0 = CpuMask.Parse("0-11,24-35");
        var node1 = CpuMask.Parse("12-23,36-47");

        var settings = SettingsLoader.Load(SettingsFixture.Hocon("taskstats.cpus-per-shard = 8" + SettingsFixture.NullSink),
            _fixture.Sysfs("0-47", node0.ToString(), node1.ToString()));

        Assert.All(settings.Shards, shard => Assert.True(shard.Cpus.IsSubsetOf(node0) || shard.Cpus.IsSubsetOf(node1), shard.ToString()));
        Assert.Equal(["0-7", "8-11,24-27", "28-35", "12-19", "20-23,36-39", "40-47"],
            settings.Shards.Select(shard => shard.Cpus.ToString()));
        Assert.Empty(settings.Warnings);
    }

    [Fact]
    public void Auto_should_cut_each_node_in_the_given_size_leaving_a_smaller_last_group() =>
        Assert.Equal(["0-3", "4-5", "6-9", "10-11"],
            Layout("taskstats.cpus-per-shard = 4", "0-11", "0-5", "6-11"));

    [Fact]
    public void Auto_should_group_adjacent_online_cpus_around_offline_ones() =>
        Assert.Equal(["0-1", "2-3", "5-6", "7"], Layout("taskstats.cpus-per-shard = 2", "0-3,5-7"));

    [Fact]
    public void Auto_should_leave_out_offline_cpus_a_node_still_lists() =>
        Assert.Equal(["0", "1", "3"], Layout("taskstats.shards = auto", "0-1,3", "0-3"));

    [Fact]
    public void Auto_should_number_shards_in_order() =>
        Assert.Equal([0, 1, 2, 3],
            SettingsLoader.Load(SettingsFixture.Hocon(""), _fixture.Sysfs("0-3")).Shards.Select(shard => shard.Index));

    [Fact]
    public void Auto_should_cover_online_cpus_no_node_lists()
    {
        var shards = ShardLayout.Auto(CpuMask.Parse("0-5"), [(0, CpuMask.Parse("0-3"))], 2);

        Assert.Equal(["0-1", "2-3", "4-5"], shards.Select(shard => shard.ToString()));
    }

    [Fact]
    public void Explicit_list_should_be_taken_as_written()
    {
        var settings = SettingsLoader.Load(
            SettingsFixture.Hocon("taskstats.shards = [\"4-7\", \"0-1,3\", \"2\"]" + SettingsFixture.NullSink), _fixture.Sysfs("0-7"));

        Assert.Equal(["4-7", "0-1,3", "2"], settings.Shards.Select(shard => shard.Cpus.ToString()));
        Assert.Equal([0, 1, 2], settings.Shards.Select(shard => shard.Index));
        Assert.Empty(settings.Warnings);
    }

    [Fact]
    public void Explicit_list_should_override_auto_set_earlier_in_the_same_config()
    {
        var settings = SettingsLoader.Load(
            SettingsFixture.Hocon("taskstats { shards = auto }\ntaskstats.shards = [\"0-1\"]"), _fixture.Sysfs("0-1"));

        Assert.Equal(["0-1"], settings.Shards.Select(shard => shard.Cpus.ToString()));
    }

    [Fact]
    public void Explicit_list_should_warn_about_cpus_no_shard_covers()
    {
        var settings = SettingsLoader.Load(
            SettingsFixture.Hocon("taskstats.shards = [\"0-1\", \"4\"]" + SettingsFixture.NullSink), _fixture.Sysfs("0-5"));

        var warning = Assert.Single(settings.Warnings);
        Assert.Contains("taskstats.shards", warning);
        Assert.Contains("cpus 2-3,5 online but in no shard", warning);
        Assert.Contains("not collected", warning);
    }

    [Fact]
    public void Explicit_list_should_warn_that_cpus_per_shard_is_ignored()
    {
        var settings = SettingsLoader.Load(
            SettingsFixture.Hocon("taskstats { shards = [\"0\", \"1\"], cpus-per-shard = 2 }" + SettingsFixture.NullSink), _fixture.Sysfs("0-1"));

        var warning = Assert.Single(settings.Warnings);
        Assert.Contains("taskstats.cpus-per-shard = 2 is ignored", warning);
    }
}
