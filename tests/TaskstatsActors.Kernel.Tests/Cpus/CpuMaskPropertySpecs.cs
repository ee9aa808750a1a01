using CsCheck;
using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Kernel.Tests.Cpus;

public sealed class CpuMaskPropertySpecs
{
    // Mostly small numbers, where runs and word boundaries (63/64) are dense, plus the whole range.
    private static readonly Gen<int> Cpu = Gen.Frequency((4, Gen.Int[0, 200]), (1, Gen.Int[0, CpuMask.MaxCpu]));
    private static readonly Gen<HashSet<int>> Cpus = Cpu.HashSet[0, 80];

    [Fact]
    public void Formatting_then_parsing_should_give_the_same_set()
    {
        Cpus.Where(set => set.Count > 0).Sample(set =>
        {
            var mask = CpuMask.Of(set);
            var text = mask.ToString();
            var back = CpuMask.Parse(text);

            Assert.Equal(mask, back);
            Assert.Equal(set.Order(), back);
            Assert.Equal(text, back.ToString());
        });
    }

    [Fact]
    public void Set_operations_should_agree_with_HashSet()
    {
        Gen.Select(Cpus, Cpus).Sample((a, b) =>
        {
            var x = CpuMask.Of(a);
            var y = CpuMask.Of(b);

            Assert.Equal(a.Intersect(b).Order(), x.Intersect(y));
            Assert.Equal(a.Except(b).Order(), x.Except(y));
            Assert.Equal(a.Union(b).Order(), x.Union(y));
            Assert.Equal(a.Overlaps(b), x.Overlaps(y));
            Assert.Equal(a.IsSubsetOf(b), x.IsSubsetOf(y));
            Assert.Equal(a.Count, x.Count);
            Assert.All(b, cpu => Assert.Equal(a.Contains(cpu), x.Contains(cpu)));
        });
    }

    [Fact]
    public void Canonical_text_should_not_depend_on_how_the_list_was_written()
    {
        // The same set written as shuffled single cpus parses to the same canonical text.
        Gen.Select(Cpus.Where(set => set.Count > 0), Gen.Int).Sample((set, seed) =>
        {
            var random = new Random(seed);
            var shuffled = set.OrderBy(_ => random.Next()).ToList();
            var written = string.Join(" , ", shuffled) + "\n";

            Assert.Equal(CpuMask.Of(set).ToString(), CpuMask.Parse(written).ToString());
        });
    }
}
