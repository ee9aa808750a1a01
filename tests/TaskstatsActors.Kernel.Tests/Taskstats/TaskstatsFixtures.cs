using System.Runtime.CompilerServices;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

/// <summary>
/// The real capture in Fixtures/ (made once by Fixtures/capture-exit-record.c), read from the source
/// tree so the test project needs no copy-to-output items.
/// </summary>
internal static class TaskstatsFixtures
{
    public static byte[] RealV16Bytes() => File.ReadAllBytes(PathOf("taskstats-v16-real.bin"));

    /// <summary>The sidecar's key=value lines: what the capturing parent knew about the child.</summary>
    public static IReadOnlyDictionary<string, string> RealV16Facts() =>
        File.ReadAllLines(PathOf("taskstats-v16-real.txt"))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToDictionary(parts => parts[0], parts => parts[1]);

    private static string PathOf(string name, [CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "Fixtures", name);
}
