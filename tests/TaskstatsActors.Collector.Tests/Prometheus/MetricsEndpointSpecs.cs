using System.Net;
using System.Net.Sockets;
using Prometheus;
using TaskstatsActors.Collector.Sinks;

namespace TaskstatsActors.Collector.Tests.Prometheus;

/// <summary>The small HTTP server behind the Prometheus sink, on its own.</summary>
public sealed class MetricsEndpointSpecs
{
    private static CollectorRegistry RegistryWithOneCounter(double value)
    {
        var registry = new CollectorRegistry();
        Metrics.WithCustomRegistry(registry).CreateCounter("spec_things_total", "Things.").Inc(value);
        return registry;
    }

    [Fact]
    public async Task Endpoint_should_answer_many_scrapes_at_once()
    {
        await using var endpoint = MetricsEndpoint.Start(new IPEndPoint(IPAddress.Loopback, 0), RegistryWithOneCounter(42));

        var scrapes = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Scrape.FromAsync(endpoint.LocalEndPoint)));

        Assert.All(scrapes, scrape => Assert.Equal(42, scrape.Value("spec_things_total")));
        Assert.Equal($"http://127.0.0.1:{endpoint.LocalEndPoint.Port}/metrics", endpoint.Url);
    }

    [SkippableFact]
    public async Task Endpoint_should_serve_on_IPv6_loopback()
    {
        Skip.IfNot(Socket.OSSupportsIPv6, "IPv6 is not available here");
        MetricsEndpoint endpoint;
        try
        {
            endpoint = MetricsEndpoint.Start(new IPEndPoint(IPAddress.IPv6Loopback, 0), RegistryWithOneCounter(7));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported)
        {
            throw new SkipException($"::1 cannot be bound here: {e.Message}");
        }
        await using (endpoint)
        {
            Assert.Equal($"http://[::1]:{endpoint.LocalEndPoint.Port}/metrics", endpoint.Url);
            Assert.Equal(7, (await Scrape.FromAsync(endpoint.LocalEndPoint)).Value("spec_things_total"));
        }
    }

    [Fact]
    public async Task Endpoint_should_refuse_a_port_in_use_and_free_its_port_when_disposed()
    {
        var first = MetricsEndpoint.Start(new IPEndPoint(IPAddress.Loopback, 0), RegistryWithOneCounter(1));
        var taken = first.LocalEndPoint;
        var refused = Assert.Throws<SocketException>(() => MetricsEndpoint.Start(taken, RegistryWithOneCounter(2)));
        Assert.Equal(SocketError.AddressAlreadyInUse, refused.SocketErrorCode);

        // A scrape leaves a connection behind in TIME_WAIT; the port can be bound again all the same.
        await Scrape.FromAsync(taken);
        await first.DisposeAsync();
        await using var second = MetricsEndpoint.Start(taken, RegistryWithOneCounter(2));
        Assert.Equal(2, (await Scrape.FromAsync(taken)).Value("spec_things_total"));
    }
}
