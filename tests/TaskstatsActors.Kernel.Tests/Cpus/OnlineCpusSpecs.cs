using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Kernel.Tests.Cpus;

public sealed class OnlineCpusSpecs : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("taskstats-cpus-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Write(string relativePath, string content)
    {
        var path = Path.Combine(_root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    [Fact]
    public void ReadOnline_should_parse_the_sysfs_file()
    {
        Write("cpu/online", "0-3,6\n");

        Assert.Equal(CpuMask.Parse("0-3,6"), new OnlineCpus(_root).ReadOnline());
    }

    [Fact]
    public void ReadOnline_should_name_a_missing_file()
    {
        var path = Path.Combine(_root, "cpu", "online");

        var error = Assert.Throws<CpuMaskException>(() => new OnlineCpus(_root).ReadOnline());

        Assert.StartsWith($"cannot read {path}: ", error.Message);
        Assert.IsAssignableFrom<IOException>(error.InnerException);
    }

    [Fact]
    public void ReadOnline_should_name_the_file_it_cannot_parse()
    {
        Write("cpu/online", "0-x\n");
        var path = Path.Combine(_root, "cpu", "online");

        var error = Assert.Throws<CpuMaskException>(() => new OnlineCpus(_root).ReadOnline());

        Assert.Equal($"cannot parse {path}: invalid cpu list \"0-x\": \"0-x\" is not a cpu number or range", error.Message);
    }

    [Fact]
    public void ReadOnline_should_refuse_an_empty_file()
    {
        Write("cpu/online", "\n");
        var path = Path.Combine(_root, "cpu", "online");

        var error = Assert.Throws<CpuMaskException>(() => new OnlineCpus(_root).ReadOnline());

        Assert.Equal($"{path} is empty", error.Message);
    }

    [Fact]
    public void ReadKernelCpuCount_should_be_kernel_max_plus_one()
    {
        Write("cpu/kernel_max", "255\n");
        Write("cpu/possible", "0-1\n");

        Assert.Equal(256, new OnlineCpus(_root).ReadKernelCpuCount());
    }

    [Fact]
    public void ReadKernelCpuCount_should_fall_back_to_the_possible_cpus()
    {
        Write("cpu/possible", "0-5,8\n");

        Assert.Equal(9, new OnlineCpus(_root).ReadKernelCpuCount());
    }

    [Fact]
    public void ReadKernelCpuCount_should_name_a_bad_kernel_max()
    {
        Write("cpu/kernel_max", "lots\n");
        var path = Path.Combine(_root, "cpu", "kernel_max");

        var error = Assert.Throws<CpuMaskException>(() => new OnlineCpus(_root).ReadKernelCpuCount());

        Assert.Equal($"cannot parse {path}: \"lots\" is not a cpu number", error.Message);
    }

    [Fact]
    public void ReadNumaNodes_should_list_nodes_with_cpus_in_node_order()
    {
        Write("node/node10/cpulist", "8-9\n");
        Write("node/node0/cpulist", "0-3\n");
        Write("node/node1/cpulist", "4-7\n");
        Write("node/node2/cpulist", "\n"); // memory-only node
        Write("node/online", "0-2,10\n");
        Write("node/possible", "0-10\n");

        var nodes = new OnlineCpus(_root).ReadNumaNodes();

        Assert.Equal(
            [(0, CpuMask.Parse("0-3")), (1, CpuMask.Parse("4-7")), (10, CpuMask.Parse("8-9"))],
            nodes);
    }

    [Fact]
    public void ReadNumaNodes_should_treat_a_kernel_without_numa_as_one_node()
    {
        Write("cpu/online", "0-1\n");

        var nodes = new OnlineCpus(_root).ReadNumaNodes();

        Assert.Equal([(0, CpuMask.Parse("0-1"))], nodes);
    }

    [Fact]
    public void ReadNumaNodes_should_name_a_node_without_cpulist()
    {
        Directory.CreateDirectory(Path.Combine(_root, "node", "node3"));
        var path = Path.Combine(_root, "node", "node3", "cpulist");

        var error = Assert.Throws<CpuMaskException>(() => new OnlineCpus(_root).ReadNumaNodes());

        Assert.StartsWith($"cannot read {path}: ", error.Message);
    }

    [Fact]
    public void Validate_should_check_against_the_online_file()
    {
        Write("cpu/online", "0-1\n");
        var cpus = new OnlineCpus(_root);

        cpus.Validate(CpuMask.Parse("1"));
        var error = Assert.Throws<CpuMaskException>(() => cpus.Validate(CpuMask.Parse("8-9")));

        Assert.Equal("cpus 8-9 are not online (online: 0-1)", error.Message);
    }

    [Fact]
    public void The_real_sysfs_should_describe_this_machine()
    {
        var cpus = OnlineCpus.System;

        var online = cpus.ReadOnline();
        var possible = cpus.ReadPossible();
        var nodes = cpus.ReadNumaNodes();
        var nrCpus = cpus.ReadKernelCpuCount();

        Assert.Equal(Environment.ProcessorCount, online.Count);
        Assert.True(online.IsSubsetOf(possible), $"online {online} should be within possible {possible}");
        Assert.True(possible.Max < nrCpus, $"possible {possible} should be below NR_CPUS {nrCpus}");
        Assert.NotEmpty(nodes);
        Assert.True(nodes.Select(node => node.Cpus).Aggregate(CpuMask.Empty, (all, node) => all.Union(node)).IsSubsetOf(possible));
        Assert.True(online.IsSubsetOf(nodes.Select(node => node.Cpus).Aggregate(CpuMask.Empty, (all, node) => all.Union(node))));
    }
}
