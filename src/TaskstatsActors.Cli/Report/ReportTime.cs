using System.Globalization;
using System.Text.RegularExpressions;

namespace TaskstatsActors.Cli.Report;

/// <summary>
/// Reads the times of <c>report</c>: durations (<c>90s</c>, <c>15m</c>, <c>1h30m</c>, <c>2d</c>, <c>1w</c>) and
/// points in time (<c>2025-01-31</c>, <c>2025-01-31 14:00</c>, <c>2025-01-31T14:00:05Z</c>, <c>14:00</c> today,
/// <c>now</c>, or a duration meaning that long ago). Times without an offset are local.
/// </summary>
internal static partial class ReportTime
{
    /// <summary>What a point in time may look like, for error messages.</summary>
    public const string TimeExamples = "2025-01-31, \"2025-01-31 14:00\", 2025-01-31T14:00:05Z, 14:00 (today), now, or a duration ago such as 2h";

    /// <summary>What a duration may look like, for error messages.</summary>
    public const string DurationExamples = "90s, 15m, 1h, 1h30m, 2d, 1w";

    private static readonly string[] TimeFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd'T'HH:mmzzz", "yyyy-MM-dd'T'HH:mm:sszzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-dd HH:mmzzz", "yyyy-MM-dd HH:mm:sszzz", "yyyy-MM-dd HH:mm:ss.FFFFFFFzzz",
    ];

    private static readonly string[] UtcFormats =
    [
        "yyyy-MM-dd'T'HH:mm'Z'", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'",
        "yyyy-MM-dd HH:mm'Z'", "yyyy-MM-dd HH:mm:ss'Z'", "yyyy-MM-dd HH:mm:ss.FFFFFFF'Z'",
    ];

    private static readonly string[] ClockFormats = ["HH:mm", "HH:mm:ss"];

    [GeneratedRegex(@"\G(?<number>\d+(\.\d+)?)\s*(?<unit>ms|s|m|h|d|w)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DurationPart();

    /// <summary>A positive duration written as one or more number-unit pairs (<c>1h30m</c>); null when it is not one.</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
            return null;
        var total = TimeSpan.Zero;
        var position = 0;
        while (position < trimmed.Length)
        {
            var match = DurationPart().Match(trimmed, position);
            if (!match.Success)
                return null;
            var number = double.Parse(match.Groups["number"].Value, CultureInfo.InvariantCulture);
            var unit = match.Groups["unit"].Value.ToLowerInvariant() switch
            {
                "ms" => TimeSpan.FromMilliseconds(1),
                "s" => TimeSpan.FromSeconds(1),
                "m" => TimeSpan.FromMinutes(1),
                "h" => TimeSpan.FromHours(1),
                "d" => TimeSpan.FromDays(1),
                _ => TimeSpan.FromDays(7),
            };
            try
            {
                total += unit * number;
            }
            catch (OverflowException)
            {
                return null;
            }
            position = match.Index + match.Length;
        }
        return total > TimeSpan.Zero ? total : null;
    }

    /// <summary>A point in time relative to <paramref name="now"/>; null when the text is none of the accepted forms.</summary>
    public static DateTimeOffset? ParsePoint(string text, DateTimeOffset now)
    {
        var trimmed = text.Trim();
        if (trimmed.Equals("now", StringComparison.OrdinalIgnoreCase))
            return now;
        if (ParseDuration(trimmed) is { } ago)
            return ago < now - DateTimeOffset.MinValue ? now - ago : null;
        if (DateTimeOffset.TryParseExact(trimmed, UtcFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var utc))
            return utc;
        if (DateTimeOffset.TryParseExact(trimmed, TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var time))
            return time;
        if (DateTime.TryParseExact(trimmed, ClockFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var clock))
        {
            var local = now.ToLocalTime();
            return new DateTimeOffset(local.Date + clock.TimeOfDay, TimeZoneInfo.Local.GetUtcOffset(local.Date + clock.TimeOfDay));
        }
        return null;
    }

    /// <summary>A duration as people say it: <c>1h</c>, <c>1h30m</c>, <c>2d</c>, <c>45s</c>.</summary>
    public static string Describe(TimeSpan span)
    {
        if (span < TimeSpan.FromSeconds(1))
            return $"{span.TotalMilliseconds:0}ms";
        var parts = new List<string>();
        if (span.Days > 0) parts.Add($"{span.Days}d");
        if (span.Hours > 0) parts.Add($"{span.Hours}h");
        if (span.Minutes > 0) parts.Add($"{span.Minutes}m");
        if (span.Seconds > 0 && span.Days == 0) parts.Add($"{span.Seconds}s");
        return string.Concat(parts);
    }
}
