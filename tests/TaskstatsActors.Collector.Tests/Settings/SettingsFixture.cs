using Akka.Configuration;
using TaskstatsActors.Kernel.Cpus;

namespace TaskstatsActors.Collector.Tests.Settings;

/// <summary>A scratch directory for one test: a fake sysfs tree, config files, sink paths. Deleted on dispose.</summary>
public sealed class SettingsFixture : IDisposable
{
    /// <summary>A HOCON line that configures one do-nothing sink, so that a test sees no "no sink" warning.</summary>
    public const string NullSink =
        "\ntaskstats.sinks.noop.class = \"TaskstatsActors.Collector.Tests.Settings.NullTestSink, TaskstatsActors.Collector.Tests\"\n";

    /// <summary>The scratch directory.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("taskstats-settings-").FullName;

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>A full path inside the scratch directory.</summary>
    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Writes a file under the scratch directory, creating its directories.</summary>
    public string Write(string relative, string content)
    {
        var path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>
    /// A fake <c>/sys/devices/system</c> with <paramref name="online"/> as <c>cpu/online</c> and, if
    /// given, one <c>node/node&lt;N&gt;/cpulist</c> per entry of <paramref name="nodes"/>.
    /// </summary>
    public OnlineCpus Sysfs(string online, params string[] nodes)
    {
        var sysfs = Path.Combine(Root, "sys-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(sysfs, "cpu"));
        File.WriteAllText(Path.Combine(sysfs, "cpu", "online"), online + "\n");
        for (var node = 0; node < nodes.Length; node++)
        {
            var directory = Path.Combine(sysfs, "node", $"node{node}");
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, "cpulist"), nodes[node] + "\n");
        }
        return new OnlineCpus(sysfs);
    }

    /// <summary>HOCON for tests: <paramref name="hocon"/> parsed as is.</summary>
    public static Config Hocon(string hocon) => ConfigurationFactory.ParseString(hocon);

    /// <summary>A HOCON string literal for a path (backslashes and quotes escaped).</summary>
    public static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>The repository's <c>config/taskstats.conf</c>.</summary>
    public static string DefaultConfigFile => TestSupport.RepositoryFiles.PathOf("config", "taskstats.conf");
}
