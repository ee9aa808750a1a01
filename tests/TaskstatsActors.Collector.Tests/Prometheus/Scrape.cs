using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TaskstatsActors.Collector.Tests.Prometheus;

/// <summary>One sample of a scrape: metric name, labels, value.</summary>
public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(params (string Name, string Value)[] labels) =>
        labels.All(l => Labels.TryGetValue(l.Name, out var v) && v == l.Value);

    public override string ToString() =>
        $"{Name}{{{string.Join(",", Labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} {Value.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// Scrapes an endpoint over HTTP, as a Prometheus server would, and reads the text format (0.0.4) back:
/// enough of it for the specs (comments skipped, label values unescaped).
/// </summary>
public sealed class Scrape
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    private Scrape(string text, IReadOnlyList<Sample> samples)
    {
        Text = text;
        Samples = samples;
    }

    /// <summary>The body as served.</summary>
    public string Text { get; }

    public IReadOnlyList<Sample> Samples { get; }

    /// <summary>GETs <c>http://{endpoint}/metrics</c> and parses the answer (which must be 200, text format 0.0.4).</summary>
    public static async Task<Scrape> FromAsync(IPEndPoint endpoint)
    {
        using var response = await Http.GetAsync($"http://{endpoint}/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        return Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Scrapes until <paramref name="ready"/> holds (the sink handles events on its own thread), at most 20 s;
    /// an endpoint that is not listening yet is tried again.
    /// </summary>
    public static async Task<Scrape> UntilAsync(IPEndPoint endpoint, Func<Scrape, bool> ready, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            string last;
            try
            {
                var scrape = await FromAsync(endpoint);
                if (ready(scrape))
                    return scrape;
                last = scrape.Text;
            }
            catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                last = "(connection refused)";
            }
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"waited 20 s for {what}; last scrape:\n{last}");
            await Task.Delay(20);
        }
    }

    /// <summary>The value of the one sample of <paramref name="name"/> with exactly these labels, or null.</summary>
    public double? Value(string name, params (string Name, string Value)[] labels) =>
        Samples.SingleOrDefault(s => s.Name == name && s.Labels.Count == labels.Length && s.Has(labels))?.Value;

    /// <summary>The samples of <paramref name="name"/>.</summary>
    public IEnumerable<Sample> Of(string name) => Samples.Where(s => s.Name == name);

    /// <summary>Reads text-format samples.</summary>
    public static Scrape Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var labels = new Dictionary<string, string>();
            var i = 0;
            while (i < line.Length && line[i] != '{' && line[i] != ' ')
                i++;
            var name = line[..i];
            if (i < line.Length && line[i] == '{')
            {
                i++;
                while (line[i] != '}')
                {
                    var eq = line.IndexOf('=', i);
                    var key = line[i..eq];
                    i = eq + 2; // past ="
                    var value = new StringBuilder();
                    for (; line[i] != '"'; i++)
                    {
                        if (line[i] == '\\')
                        {
                            i++;
                            value.Append(line[i] == 'n' ? '\n' : line[i]);
                        }
                        else
                        {
                            value.Append(line[i]);
                        }
                    }
                    labels[key] = value.ToString();
                    i++; // past the closing quote
                    if (line[i] == ',')
                        i++;
                }
                i++; // past }
            }
            var valueText = line[(i + 1)..].Split(' ')[0];
            var parsed = valueText switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(valueText, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(name, labels, parsed));
        }
        return new Scrape(text, samples);
    }

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
