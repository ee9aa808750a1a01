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
/// <param name="QuietLinger">
/// When exits arrive so slowly that <paramref name="Linger"/> gathers less than a quarter of a batch, wait up to
/// this long instead: every batch has fixed costs (thread hand-offs in the stream), which small batches pay per
/// few records. Zero, or no longer than <paramref name="Linger"/>, keeps <paramref name="Linger"/> at every rate.
/// </param>
public sealed record ListenerOptions(int ReceiveBuffer, int BatchSize, bool Pin = false, TimeSpan Linger = default, TimeSpan QuietLinger = default);
