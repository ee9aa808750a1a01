using System.Globalization;
using System.Net;
using Akka.Configuration;
using TaskstatsActors.Collector.Settings;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>The keys of a <see cref="PrometheusSink"/>'s config block, read and checked.</summary>
/// <param name="Listen">Where <c>/metrics</c> is served (<c>listen</c>); port 0 takes a free port.</param>
/// <param name="TopCommands">Commands labelled at once, and per window promoted (<c>top-commands</c>).</param>
/// <param name="MaxCommands">The most commands that ever get a label of their own (<c>max-commands</c>).</param>
/// <param name="DelayBuckets">Upper bounds, in seconds, of the delay histograms' buckets (<c>delay-buckets</c>).</param>
/// <param name="ProcessMetrics">Also export the collector process's own CPU, memory and GC figures (<c>process-metrics</c>).</param>
public sealed record PrometheusSinkSettings(
    IPEndPoint Listen,
    int TopCommands,
    int MaxCommands,
    IReadOnlyList<double> DelayBuckets,
    bool ProcessMetrics)
{
    /// <summary>Loopback only: a Prometheus server on another host cannot scrape it until the operator says so.</summary>
    public const string DefaultListen = "127.0.0.1:9464";

    /// <summary>Default of <c>top-commands</c>.</summary>
    public const int DefaultTopCommands = 20;

    /// <summary>The largest <c>max-commands</c> accepted: each command costs a counter and a histogram per delay category.</summary>
    public const int MaxCommandsLimit = 1000;

    /// <summary>Decades from 10 µs to 10 s: one task's total delay of one kind ranges from nothing to seconds.</summary>
    public static readonly IReadOnlyList<double> DefaultDelayBuckets = [0.00001, 0.0001, 0.001, 0.01, 0.1, 1, 10];

    /// <summary>Every key the sink understands, including those every sink has.</summary>
    public static readonly IReadOnlySet<string> KnownKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "class", "assembly-path", "buffer", "overflow", "enabled",
        "listen", "top-commands", "max-commands", "delay-buckets", "process-metrics",
    };

    private const string ListenValid =
        "\"address:port\" with an IP address of this host: \"127.0.0.1:9464\" (loopback only, the default), " +
        "\"0.0.0.0:9464\" (every IPv4 interface), \"[::1]:9464\", \"localhost:9464\"; port 0 takes a free port";

    /// <summary>Reads the sink's block.</summary>
    /// <exception cref="ConfigException">A value is refused.</exception>
    public static PrometheusSinkSettings Read(SinkContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var config = context.Config;
        var prefix = $"taskstats.sinks.{context.Name}";

        var listenText = Get(config, prefix, "listen", c => c.GetString("listen", DefaultListen), "an address such as \"127.0.0.1:9464\"");
        var listen = ParseListen($"{prefix}.listen", listenText);

        var top = Get(config, prefix, "top-commands", c => c.GetInt("top-commands", DefaultTopCommands), "a whole number");
        if (top is < 0 or > MaxCommandsLimit)
            throw new ConfigException($"{prefix}.top-commands", Text(top), "is out of range",
                $"a whole number from 0 to {MaxCommandsLimit} (0 counts every command under comm=\"other\")");

        var max = Get(config, prefix, "max-commands", c => c.GetInt("max-commands", 2 * top), "a whole number");
        if (max < top || max > MaxCommandsLimit)
            throw new ConfigException($"{prefix}.max-commands", Text(max), "is out of range",
                $"a whole number from top-commands ({top}) to {MaxCommandsLimit}");

        IReadOnlyList<double> buckets = DefaultDelayBuckets;
        if (config.HasPath("delay-buckets"))
        {
            var raw = config.GetValue("delay-buckets");
            const string valid = "a list of 1 to 30 increasing upper bounds in seconds, e.g. [0.0001, 0.001, 0.01, 0.1, 1]";
            var list = Get(config, prefix, "delay-buckets", c => c.GetDoubleList("delay-buckets"), valid);
            if (list.Count is 0 or > 30)
                throw new ConfigException($"{prefix}.delay-buckets", raw?.ToString(), $"has {list.Count} bounds", valid);
            for (var i = 0; i < list.Count; i++)
            {
                if (!double.IsFinite(list[i]) || list[i] <= 0 || (i > 0 && list[i] <= list[i - 1]))
                    throw new ConfigException($"{prefix}.delay-buckets", raw?.ToString(),
                        $"bound {i + 1} ({Text(list[i])}) is not positive and larger than the one before", valid);
            }
            buckets = [.. list];
        }

        var processMetrics = Get(config, prefix, "process-metrics", c => c.GetBoolean("process-metrics", true), "on or off");
        return new PrometheusSinkSettings(listen, top, max, buckets, processMetrics);
    }

    /// <summary>The keys of the block that the sink does not know (probably misspelt), for a warning.</summary>
    public static IReadOnlyList<string> UnknownKeys(Config config) =>
        config.IsEmpty
            ? []
            : config.Root.GetObject().Items.Keys.Where(key => !KnownKeys.Contains(key)).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Parses <c>address:port</c>: an IPv4 address, an IPv6 address in brackets, or <c>localhost</c>
    /// (taken as 127.0.0.1, so that the endpoint stays on loopback whatever the resolver says).
    /// </summary>
    /// <exception cref="ConfigException">The text is not such an address.</exception>
    public static IPEndPoint ParseListen(string key, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new ConfigException(key, text ?? "", "is empty", ListenValid);
        var trimmed = text.Trim();
        var colon = trimmed.LastIndexOf(':');
        if (colon <= 0 || colon == trimmed.Length - 1)
            throw new ConfigException(key, text, "has no port (address:port)", ListenValid);
        var hostText = trimmed[..colon];
        var portText = trimmed[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > IPEndPoint.MaxPort)
            throw new ConfigException(key, text, $"port \"{portText}\" is not a number from 0 to {IPEndPoint.MaxPort}", ListenValid);

        IPAddress? address;
        if (string.Equals(hostText, "localhost", StringComparison.OrdinalIgnoreCase))
            address = IPAddress.Loopback;
        else if (hostText.StartsWith('[') && hostText.EndsWith(']'))
            address = IPAddress.TryParse(hostText[1..^1], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? v6 : null;
        else
            address = IPAddress.TryParse(hostText, out var v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? v4 : null;
        if (address is null)
            throw new ConfigException(key, text, $"\"{hostText}\" is not an IPv4 address, a bracketed IPv6 address or localhost", ListenValid);
        return new IPEndPoint(address, port);
    }

    private static T Get<T>(Config config, string prefix, string key, Func<Config, T> read, string valid)
    {
        try
        {
            return read(config);
        }
        // Akka's HOCON getters fail in many ways on a value of the wrong kind (format, cast, not
        // supported, configuration exceptions); each means the same to the operator.
        catch (Exception e) when (e is not ConfigException)
        {
            throw new ConfigException($"{prefix}.{key}", config.GetValue(key)?.ToString(), "cannot be read", valid, e);
        }
    }

    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);
}
