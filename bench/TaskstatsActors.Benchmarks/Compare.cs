using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TaskstatsActors.Benchmarks;

/// <summary>Puts two saved capacity reports side by side: figures and the ratio after / before.</summary>
public static class Compare
{
    public static int Run(string[] args)
    {
        if (args.Length is < 2 or > 3)
        {
            Console.Error.WriteLine("compare BEFORE.json AFTER.json [--out FILE]");
            return 2;
        }
        var before = JsonSerializer.Deserialize<CapacityReport>(File.ReadAllText(args[0]))!;
        var after = JsonSerializer.Deserialize<CapacityReport>(File.ReadAllText(args[1]))!;
        var text = new StringBuilder();
        text.AppendLine($"### Pipeline capacity, one core: {before.Label} → {after.Label}");
        text.AppendLine();
        text.AppendLine($"- machine: {after.Machine}; CPUs: {after.Cpus}; {after.Runtime}");
        text.AppendLine($"- dates: {before.Date} ({before.Label}), {after.Date} ({after.Label})");
        text.AppendLine($"- corpus: {after.Corpus}");
        text.AppendLine($"- command: `{after.Command}`, once per build");
        text.AppendLine();
        text.AppendLine($"| stage | records/s {before.Label} | records/s {after.Label} | ratio | ns/record {before.Label} → {after.Label} | records per CPU-second ratio | allocated B/record {before.Label} → {after.Label} | GC pause {before.Label} → {after.Label} |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var a in after.Stages)
        {
            var b = before.Stages.FirstOrDefault(s => s.Stage == a.Stage);
            if (b is null)
                continue;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {a.Stage} | {b.RecordsPerSecond:N0} | {a.RecordsPerSecond:N0} | {a.RecordsPerSecond / b.RecordsPerSecond:F2}× | {1e9 / b.RecordsPerSecond:N0} → {1e9 / a.RecordsPerSecond:N0} | {a.RecordsPerCpuSecond / b.RecordsPerCpuSecond:F2}× | {b.AllocatedBytesPerRecord:N0} → {a.AllocatedBytesPerRecord:N0} | {b.GcPausePercent:F0} % → {a.GcPausePercent:F0} % |"));
        }
        var markdown = text.ToString();
        Console.WriteLine(markdown);
        if (args.Length == 3)
            File.WriteAllText(args[2], markdown);
        return 0;
    }
}
