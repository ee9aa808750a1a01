using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Kernel.Tests.Cpus;

public sealed class CpuMaskParseSpecs
{
    [Theory]
    [InlineData("0", "0", new[] { 0 })]
    [InlineData("0-1\n", "0-1", new[] { 0, 1 })]
    [InlineData("1-3,5,7-8", "1-3,5,7-8", new[] { 1, 2, 3, 5, 7, 8 })]
    [InlineData(" 1 - 3 , 5 ,\t7-8 \n", "1-3,5,7-8", new[] { 1, 2, 3, 5, 7, 8 })]
    [InlineData("5,0,1,2,3", "0-3,5", new[] { 0, 1, 2, 3, 5 })]
    [InlineData("3,1-2,2-3", "1-3", new[] { 1, 2, 3 })]
    [InlineData("4-4", "4", new[] { 4 })]
    [InlineData("007", "7", new[] { 7 })]
    [InlineData("62-66", "62-66", new[] { 62, 63, 64, 65, 66 })]
    [InlineData("8191", "8191", new[] { 8191 })]
    public void Parse_should_read_the_kernel_list_syntax_and_format_it_canonically(string text, string canonical, int[] cpus)
    {
        var mask = CpuMask.Parse(text);

        Assert.Equal(cpus, mask.ToArray());
        Assert.Equal(cpus.Length, mask.Count);
        Assert.Equal(canonical, mask.ToString());
        Assert.Equal(mask, CpuMask.Parse(mask.ToString()));
    }

    [Fact]
    public void Parse_should_read_every_cpu_of_a_wide_range()
    {
        var mask = CpuMask.Parse("0-8191");

        Assert.Equal(8192, mask.Count);
        Assert.Equal(Enumerable.Range(0, 8192), mask);
        Assert.Equal("0-8191", mask.ToString());
    }

    [Theory]
    [InlineData("", "cpu list is empty")]
    [InlineData(" \n", "cpu list is empty")]
    [InlineData("5-3", "invalid cpu list \"5-3\": range \"5-3\" is reversed (5 > 3)")]
    [InlineData("0, 9-2\n", "invalid cpu list \"0, 9-2\": range \"9-2\" is reversed (9 > 2)")]
    [InlineData("1,a", "invalid cpu list \"1,a\": \"a\" is not a cpu number or range")]
    [InlineData("0-x", "invalid cpu list \"0-x\": \"0-x\" is not a cpu number or range")]
    [InlineData("1-2-3", "invalid cpu list \"1-2-3\": \"1-2-3\" is not a cpu number or range")]
    [InlineData("0-7:2/4", "invalid cpu list \"0-7:2/4\": \"0-7:2/4\" is not a cpu number or range")]
    [InlineData("+1", "invalid cpu list \"+1\": \"+1\" is not a cpu number or range")]
    [InlineData("1 2", "invalid cpu list \"1 2\": \"1 2\" is not a cpu number or range")]
    [InlineData("3-", "invalid cpu list \"3-\": \"3-\" is not a cpu number or range")]
    [InlineData("-", "invalid cpu list \"-\": \"-\" is not a cpu number or range")]
    [InlineData("1,,2", "invalid cpu list \"1,,2\": item 2 is empty")]
    [InlineData("1,2,", "invalid cpu list \"1,2,\": item 3 is empty")]
    [InlineData("-1", "invalid cpu list \"-1\": cpu -1 is negative")]
    [InlineData("0,-5-3", "invalid cpu list \"0,-5-3\": cpu -5 is negative")]
    [InlineData("- 2", "invalid cpu list \"- 2\": cpu -2 is negative")]
    [InlineData("-x", "invalid cpu list \"-x\": \"-x\" is not a cpu number or range")]
    [InlineData("3--1", "invalid cpu list \"3--1\": cpu -1 is negative")]
    [InlineData("8192", "invalid cpu list \"8192\": cpu 8192 is too large: no Linux kernel has more than 8192 cpus (0-8191)")]
    [InlineData("0-99999999999", "invalid cpu list \"0-99999999999\": cpu 99999999999 is too large: no Linux kernel has more than 8192 cpus (0-8191)")]
    public void Parse_should_say_precisely_what_is_wrong(string text, string message)
    {
        var error = Assert.Throws<CpuMaskException>(() => CpuMask.Parse(text));

        Assert.Equal(message, error.Message);
        Assert.False(CpuMask.TryParse(text, out var mask));
        Assert.Null(mask);
    }

    [Fact]
    public void TryParse_should_return_the_mask_when_the_text_is_valid()
    {
        Assert.True(CpuMask.TryParse("0-1\n", out var mask));
        Assert.Equal(CpuMask.Range(0, 1), mask);
    }

    [Fact]
    public void TryParse_should_refuse_null()
    {
        Assert.False(CpuMask.TryParse(null, out var mask));
        Assert.Null(mask);
    }

    [Fact]
    public void Parse_should_refuse_null()
    {
        Assert.Throws<ArgumentNullException>(() => CpuMask.Parse(null!));
    }
}
