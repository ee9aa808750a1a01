using TaskstatsActors.Cli;

return await TaskstatsCli.RunAsync(args, CliEnvironment.Real);
