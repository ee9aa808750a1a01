using BenchmarkDotNet.Running;
using TaskstatsActors.Benchmarks;

// capacity | compare | capture run the plain tools; anything else goes to BenchmarkDotNet
// (e.g. --filter '*Decoder*' --job short, or --list flat).
return args.FirstOrDefault() switch
{
    "capacity" => await Capacity.RunAsync(args[1..]),
    "compare" => Compare.Run(args[1..]),
    "capture" => await Capture.RunAsync(args[1..]),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    var summaries = BenchmarkSwitcher.FromAssembly(typeof(Capacity).Assembly).Run(args);
    return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
}
