using System.Net;
using System.Net.Sockets;
using System.Text;
using Prometheus;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// A minimal HTTP/1.1 server for one resource: <c>GET /metrics</c> answers with a prometheus-net
/// registry in the Prometheus text format (0.0.4); any other path is 404, any other method 405.
/// </summary>
/// <remarks>
/// <para>Why not prometheus-net's <c>MetricServer</c>: it is built on <c>HttpListener</c>, whose managed
/// Linux implementation matches the request's <c>Host</c> header against the prefix, so a server on
/// <c>127.0.0.1</c> answers 404 to a scrape of <c>localhost:9464</c>; it cannot take port 0 (tests),
/// nor bind <c>0.0.0.0</c> or an IPv6 address. This server binds exactly the address given and ignores
/// <c>Host</c>. It is not a general web server: one request per connection (<c>Connection: close</c>), a
/// request head of at most 8 KiB read within 10 s, at most 8 connections served at once, no TLS, no
/// authentication — keep it on loopback, or behind a firewall or a proxy that adds them.</para>
/// </remarks>
internal sealed class MetricsEndpoint : IAsyncDisposable, IDisposable
{
    /// <summary>The only path served.</summary>
    public const string MetricsPath = "/metrics";

    private const string TextFormat = "text/plain; version=0.0.4; charset=utf-8";
    private const int MaxHeadBytes = 8 * 1024;
    private const int MaxConcurrent = 8;
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _listener;
    private readonly CollectorRegistry _registry;
    private readonly Action<Exception>? _onError;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _slots = new(MaxConcurrent, MaxConcurrent);
    private readonly SemaphoreSlim _collect = new(1, 1);
    private readonly Task _acceptLoop;

    private MetricsEndpoint(Socket listener, CollectorRegistry registry, Action<Exception>? onError)
    {
        _listener = listener;
        _registry = registry;
        _onError = onError;
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The address and port actually bound (the port chosen when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The URL a scraper uses, e.g. <c>http://127.0.0.1:9464/metrics</c>.</summary>
    public string Url => $"http://{LocalEndPoint}{MetricsPath}";

    /// <summary>Binds <paramref name="endpoint"/> and starts serving <paramref name="registry"/>.</summary>
    /// <param name="endpoint">Where to listen; port 0 takes a free port.</param>
    /// <param name="registry">What to serve.</param>
    /// <param name="onError">Told of failures to collect the metrics (not of clients that go away).</param>
    /// <exception cref="SocketException">The address cannot be bound (in use, not an address of this host, no permission).</exception>
    public static MetricsEndpoint Start(IPEndPoint endpoint, CollectorRegistry registry, Action<Exception>? onError = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(registry);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // SO_REUSEADDR alone, set raw: on Linux it only lets the port be bound again while old
            // connections linger in TIME_WAIT (a restarted sink), and two listeners still cannot share
            // it. (.NET's SocketOptionName.ReuseAddress also sets SO_REUSEPORT there, which would let a
            // second collector listen on the same port and take half the scrapes.)
            if (OperatingSystem.IsLinux())
                socket.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
                socket.DualMode = true;
            socket.Bind(endpoint);
            socket.Listen(64);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new MetricsEndpoint(socket, registry, onError);
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                await _slots.WaitAsync(token);
                client = await _listener.AcceptAsync(token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (token.IsCancellationRequested)
                    return;
                _slots.Release();
                continue; // a connection that failed before it was accepted
            }
            _ = ServeAsync(client, token);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stopping)
    {
        try
        {
            client.NoDelay = true;
            await using var stream = new NetworkStream(client, ownsSocket: true);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            timeout.CancelAfter(RequestTimeout);
            var head = await ReadHeadAsync(stream, timeout.Token);
            var response = head is null
                ? Plain(400, "Bad Request", "a request head of at most 8 KiB, ended by an empty line, was expected\n")
                : await AnswerAsync(head, timeout.Token);
            await stream.WriteAsync(response, timeout.Token);
            await stream.FlushAsync(timeout.Token);
            // Let the client close first, so the TIME_WAIT is the client's; give up after the timeout.
            client.Shutdown(SocketShutdown.Send);
            var sink = new byte[256];
            while (await stream.ReadAsync(sink, timeout.Token) > 0) { }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or was too slow; nothing to tell anyone.
        }
        finally
        {
            _slots.Release();
        }
    }

    private static async Task<string?> ReadHeadAsync(NetworkStream stream, CancellationToken token)
    {
        var buffer = new byte[MaxHeadBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), token);
            if (read == 0)
                return null;
            var searchFrom = Math.Max(0, length - 3);
            length += read;
            if (buffer.AsSpan(searchFrom, length - searchFrom).IndexOf("\r\n\r\n"u8) >= 0)
                return Encoding.Latin1.GetString(buffer, 0, length);
        }
        return null;
    }

    private async Task<byte[]> AnswerAsync(string head, CancellationToken token)
    {
        var requestLine = head[..head.IndexOf("\r\n", StringComparison.Ordinal)];
        var parts = requestLine.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            return Plain(400, "Bad Request", "an HTTP/1.x request line was expected\n");
        var (method, target) = (parts[0], parts[1]);
        var query = target.IndexOf('?');
        var path = query >= 0 ? target[..query] : target;
        if (path != MetricsPath)
            return Plain(404, "Not Found", $"not found: the metrics are at {MetricsPath}\n");
        if (method is not ("GET" or "HEAD"))
            return Plain(405, "Method Not Allowed", "only GET and HEAD\n", "Allow: GET, HEAD\r\n");

        using var body = new MemoryStream();
        await _collect.WaitAsync(token);
        try
        {
            await _registry.CollectAndExportAsTextAsync(body, token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _onError?.Invoke(e);
            return Plain(500, "Internal Server Error", $"collecting the metrics failed: {e.Message}\n");
        }
        finally
        {
            _collect.Release();
        }
        return Response(200, "OK", TextFormat, method == "HEAD" ? [] : body.ToArray(), (int)body.Length, "");
    }

    private static byte[] Plain(int status, string reason, string text, string extraHeaders = "") =>
        Response(status, reason, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text), null, extraHeaders);

    private static byte[] Response(int status, string reason, string contentType, byte[] body, int? contentLength, string extraHeaders)
    {
        var headText = $"HTTP/1.1 {status} {reason}\r\nContent-Type: {contentType}\r\nContent-Length: {contentLength ?? body.Length}\r\n" +
                       $"{extraHeaders}Cache-Control: no-store\r\nConnection: close\r\n\r\n";
        var head = Encoding.ASCII.GetBytes(headText);
        var response = new byte[head.Length + body.Length];
        head.CopyTo(response, 0);
        body.CopyTo(response, head.Length);
        return response;
    }

    /// <summary>Stops accepting, closes the listening socket, and waits briefly for the accept loop.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        _stop.Cancel();
        _listener.Dispose();
        await _acceptLoop.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
