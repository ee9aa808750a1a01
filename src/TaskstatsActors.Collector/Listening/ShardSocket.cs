using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Listening;

/// <summary>One socket of a shard: its connection, the buffer it was granted, and how much of its drop counter is accounted for.</summary>
internal sealed class ShardSocket : IDisposable
{
    public TaskstatsConnection Connection { get; }

    /// <summary>The buffer size granted.</summary>
    public int GrantedBuffer { get; private set; }

    /// <summary>The drop counter value already reported as loss (or deliberately not counted).</summary>
    public uint DropsAccounted { get; set; }

    public INetlinkSocket Socket => Connection.Socket;

    private ShardSocket(TaskstatsConnection connection, int granted)
    {
        Connection = connection;
        GrantedBuffer = granted;
    }

    /// <summary>Opens a socket, resolves the family and sets the receive buffer; does not register.</summary>
    public static async Task<ShardSocket> OpenAsync(Func<INetlinkSocket> open, int receiveBuffer, CancellationToken cancellationToken)
    {
        var connection = await TaskstatsConnection.OpenAsync(open(), cancellationToken).ConfigureAwait(false);
        try
        {
            var granted = connection.Socket.SetReceiveBuffer(receiveBuffer);
            return new ShardSocket(connection, granted) { DropsAccounted = connection.Socket.DropCount };
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sets a new receive buffer (the kernel grants twice <paramref name="receiveBuffer"/>). Shrinking drops
    /// nothing already queued; exits that arrive while the queue is above the new size are dropped and counted.
    /// </summary>
    public void Resize(int receiveBuffer) => GrantedBuffer = Socket.SetReceiveBuffer(receiveBuffer);

    /// <summary>Drops counted by the kernel and not yet reported; marks them reported.</summary>
    public long TakeNewDrops()
    {
        var drops = Socket.DropCount;
        var fresh = unchecked(drops - DropsAccounted);
        DropsAccounted = drops;
        return fresh;
    }

    public void Dispose() => Connection.Dispose();
}
