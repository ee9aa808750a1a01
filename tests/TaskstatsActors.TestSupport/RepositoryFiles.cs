namespace TaskstatsActors.TestSupport;

/// <summary>Files of the repository (config, docs), found by walking up from the test binaries to the solution.</summary>
public static class RepositoryFiles
{
    /// <summary>The directory that holds <c>TaskstatsActors.sln</c>.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A path below the repository root, e.g. <c>PathOf("config", "taskstats.conf")</c>.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TaskstatsActors.sln")))
                return directory.FullName;
        }
        throw new FileNotFoundException("TaskstatsActors.sln not found above " + AppContext.BaseDirectory);
    }
}
