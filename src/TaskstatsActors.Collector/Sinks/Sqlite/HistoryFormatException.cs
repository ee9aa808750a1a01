namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>
/// A file is not a taskstats history this code can use: not a SQLite database, another application's
/// database, or a schema version it does not know. The message names the file and says which.
/// </summary>
public sealed class HistoryFormatException : Exception
{
    /// <summary>Refuses a file, saying why.</summary>
    public HistoryFormatException(string message, Exception? innerException = null) : base(message, innerException) { }
}
