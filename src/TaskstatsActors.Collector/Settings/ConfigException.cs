using System.Text;

namespace TaskstatsActors.Collector.Settings;

/// <summary>
/// The configuration is refused. The message is meant for the operator as is: the key, the value
/// as written, what is wrong and what would be valid, e.g.
/// <c>taskstats.shards[1] = "2-3": cpus 2-3 are not online (online: 0-1); valid: cpus from 0-1, as "0-3,5"</c>.
/// </summary>
public sealed class ConfigException : Exception
{
    /// <summary>Refuses the value of <paramref name="key"/>.</summary>
    /// <param name="key">Full HOCON path (<c>taskstats.sinks.jsonl.path</c>), or a file name for a file that cannot be read or parsed.</param>
    /// <param name="value">The value as written; null when the key is missing.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="valid">What would be accepted; null where that is plain from <paramref name="problem"/>.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public ConfigException(string key, string? value, string problem, string? valid, Exception? innerException = null)
        : base(Format(key, value, problem, valid), innerException)
    {
        Key = key;
        Value = value;
        Problem = problem;
        Valid = valid;
    }

    /// <summary>The HOCON path (or file name) that is refused.</summary>
    public string Key { get; }

    /// <summary>The value as written; null when the key is missing.</summary>
    public string? Value { get; }

    /// <summary>What is wrong, without key and value.</summary>
    public string Problem { get; }

    /// <summary>What would be accepted, if stated.</summary>
    public string? Valid { get; }

    private static string Format(string key, string? value, string problem, string? valid)
    {
        var text = new StringBuilder(key);
        if (value is not null)
            text.Append(" = ").Append(Quote(value));
        text.Append(": ").Append(problem);
        if (valid is not null)
            text.Append("; valid: ").Append(valid);
        return text.ToString();
    }

    // Quoted as HOCON would write it, so that "" and values with spaces stay visible.
    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
