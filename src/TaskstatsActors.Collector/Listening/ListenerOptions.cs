namespace TaskstatsActors.Collector.Listening;

/// <summary>How a listener sets up and drains its socket.</summary>
/// <param name="ReceiveBuffer">Bytes to ask for the socket's receive buffer.</param>
/// <param name="BatchSize">Most messages drained into one batch before it is handed to the stream.</param>
/// <param name="Pin">Run the receive loop on a thread pinned to the shard's CPUs.</param>
public sealed record ListenerOptions(int ReceiveBuffer, int BatchSize, bool Pin = false);
