using TaskstatsActors.Bench;

return await Bench.RunAsync(args, Console.Out, Console.Error);
