using System.Threading.Channels;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Collector.Listening;

/// <summary>Everything one shard's listener is connected to; it outlives listener restarts.</summary>
/// <param name="Shard">The shard and its cpumask.</param>
/// <param name="Options">Buffer size, batch size, pinning.</param>
/// <param name="Open">Opens a netlink socket (the real one, or a fake kernel's).</param>
/// <param name="Output">Where batches and loss events go; writing waits when the stream backpressures.</param>
/// <param name="Figures">The shard's running figures.</param>
/// <param name="Tracker">The shard's sequence tracker.</param>
public sealed record ShardWiring(
    ShardInfo Shard,
    ListenerOptions Options,
    Func<INetlinkSocket> Open,
    ChannelWriter<CollectorEvent> Output,
    ShardFigures Figures,
    SequenceTracker Tracker);
