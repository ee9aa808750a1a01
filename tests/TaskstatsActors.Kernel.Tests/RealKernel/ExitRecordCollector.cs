using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.Kernel.Tests.Taskstats;

namespace TaskstatsActors.Kernel.Tests.RealKernel;

/// <summary>
/// Reads exit messages from a registered real socket into a <see cref="CollectingEventHandler"/>,
/// which also holds what arrived while registering, so that <see cref="Messages"/> is everything
/// the socket received, in order.
/// </summary>
internal sealed class ExitRecordCollector(TaskstatsConnection connection)
{
    private readonly byte[] _buffer = new byte[256 * 1024];

    /// <summary>Pass this to RegisterAsync/DeregisterAsync so that nothing received during a request is lost.</summary>
    public CollectingEventHandler Events { get; } = new(connection.Family.Id);

    public IReadOnlyList<TaskstatsMessage> Messages => Events.Messages;

    public int Overflows => Events.Overflows;

    /// <summary>Receives everything queued now, without waiting.</summary>
    public void Drain()
    {
        while (true)
        {
            int length;
            try
            {
                length = connection.Socket.TryReceive(_buffer);
            }
            catch (NetlinkOverflowException)
            {
                Events.AddOverflow();
                continue;
            }
            if (length < 0)
                return;
            Consume(length);
        }
    }

    /// <summary>Receives until <paramref name="done"/> holds (checked after each datagram), or fails after <paramref name="timeout"/>.</summary>
    public async Task ReceiveUntilAsync(Func<IReadOnlyList<TaskstatsMessage>, bool> done, TimeSpan timeout, string what)
    {
        Drain();
        using var cancel = new CancellationTokenSource(timeout);
        while (!done(Messages))
        {
            int length;
            try
            {
                length = await connection.Socket.ReceiveAsync(_buffer, cancel.Token);
            }
            catch (NetlinkOverflowException)
            {
                Events.AddOverflow();
                continue;
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds} s for {what}; received {Messages.Count} messages");
            }
            Consume(length);
        }
    }

    private void Consume(int length)
    {
        foreach (var message in NetlinkMessage.Split(_buffer.AsSpan(0, length)))
        {
            if (message.Header.Type == connection.Family.Id)
                Events.Add(TaskstatsMessageDecoder.Decode(message));
        }
    }
}
