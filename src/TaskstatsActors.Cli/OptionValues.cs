using System.CommandLine;
using System.CommandLine.Parsing;

namespace TaskstatsActors.Cli;

/// <summary>Helpers for validators, which System.CommandLine runs even when a value failed to convert.</summary>
internal static class OptionValues
{
    /// <summary>The option's value, or default when it did not convert (the parser reports that error itself).</summary>
    public static T? ValueOrDefault<T>(this CommandResult result, Option<T> option)
    {
        try
        {
            return result.GetValue(option);
        }
        catch (InvalidOperationException)
        {
            return default;
        }
    }
}
