using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Kernel.Tests.Cpus;

public sealed class CpuMaskSetSpecs
{
    private static CpuMask M(string text) => CpuMask.Parse(text);

    [Fact]
    public void Of_should_ignore_order_and_duplicates()
    {
        var mask = CpuMask.Of([9, 3, 3, 200, 0]);

        Assert.Equal([0, 3, 9, 200], mask.ToArray());
        Assert.Equal("0,3,9,200", mask.ToString());
    }

    [Fact]
    public void Of_should_give_the_empty_mask_for_no_cpus()
    {
        var mask = CpuMask.Of([]);

        Assert.True(mask.IsEmpty);
        Assert.Empty(mask);
        Assert.Equal("", mask.ToString());
        Assert.Equal(CpuMask.Empty, mask);
    }

    [Theory]
    [InlineData(-1, "cpu -1 is negative")]
    [InlineData(8192, "cpu 8192 is too large: no Linux kernel has more than 8192 cpus (0-8191)")]
    public void Of_and_Single_should_refuse_impossible_cpus(int cpu, string message)
    {
        Assert.Equal(message, Assert.Throws<CpuMaskException>(() => CpuMask.Of([1, cpu])).Message);
        Assert.Equal(message, Assert.Throws<CpuMaskException>(() => CpuMask.Single(cpu)).Message);
    }

    [Fact]
    public void Single_should_hold_one_cpu()
    {
        var mask = CpuMask.Single(70);

        Assert.Equal([70], mask.ToArray());
        Assert.Equal(70, mask.Max);
        Assert.Equal("70", mask.ToString());
    }

    [Fact]
    public void Range_should_refuse_a_reversed_range()
    {
        Assert.Equal("cpu range 5-3 is reversed (5 > 3)", Assert.Throws<CpuMaskException>(() => CpuMask.Range(5, 3)).Message);
    }

    [Fact]
    public void Contains_should_answer_for_any_number()
    {
        var mask = M("1-3,64");

        Assert.True(mask.Contains(1));
        Assert.True(mask.Contains(64));
        Assert.False(mask.Contains(0));
        Assert.False(mask.Contains(-1));
        Assert.False(mask.Contains(65));
        Assert.False(mask.Contains(int.MaxValue));
    }

    [Theory]
    [InlineData("0-3", "3-5", true)]
    [InlineData("0-3", "4-5", false)]
    [InlineData("0,64", "64", true)]
    [InlineData("0-63", "64-127", false)]
    public void Overlaps_should_tell_whether_a_cpu_is_shared(string a, string b, bool overlaps)
    {
        Assert.Equal(overlaps, M(a).Overlaps(M(b)));
        Assert.Equal(overlaps, M(b).Overlaps(M(a)));
        Assert.False(M(a).Overlaps(CpuMask.Empty));
    }

    [Fact]
    public void Set_operations_should_follow_set_algebra()
    {
        var a = M("0-5,64-70");
        var b = M("4-8,70,200");

        Assert.Equal(M("4-5,70"), a.Intersect(b));
        Assert.Equal(M("0-3,64-69"), a.Except(b));
        Assert.Equal(M("6-8,200"), b.Except(a));
        Assert.Equal(M("0-8,64-70,200"), a.Union(b));
        Assert.Equal(a.Union(b), b.Union(a));
        Assert.True(a.Intersect(M("100")).IsEmpty);
        Assert.Equal(CpuMask.Empty, a.Except(a));
    }

    [Fact]
    public void IsSubsetOf_should_compare_sets()
    {
        Assert.True(M("1-2").IsSubsetOf(M("0-3")));
        Assert.False(M("1-4").IsSubsetOf(M("0-3")));
        Assert.False(M("100").IsSubsetOf(M("0-3")));
        Assert.True(CpuMask.Empty.IsSubsetOf(M("0")));
    }

    [Fact]
    public void Equality_should_be_set_equality()
    {
        var a = M("0-3,5");
        var b = CpuMask.Of([5, 3, 2, 1, 0]);
        var trimmed = M("0-3,5,200").Except(M("200"));

        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.Equal(a, trimmed);
        Assert.Equal(a.GetHashCode(), trimmed.GetHashCode());
        Assert.NotEqual(a, M("0-3"));
        Assert.False(a.Equals(null));
        Assert.False(a == null);
    }

    [Fact]
    public void Max_should_be_the_highest_cpu()
    {
        Assert.Equal(130, M("1,64,130").Max);
        Assert.Throws<InvalidOperationException>(() => CpuMask.Empty.Max);
    }
}
