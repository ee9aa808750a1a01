using Akka.Actor;
using Akka.Configuration;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>What a sink is given when it is created: its name and its own HOCON block.</summary>
/// <param name="Name">The sink's key under <c>taskstats.sinks</c>, e.g. <c>jsonl</c>.</param>
/// <param name="Config">The sink's own config block (its <c>class</c> and every other key the user set).</param>
/// <param name="Shards">The shard layout in force, for sinks that label by shard.</param>
public sealed record SinkContext(string Name, Config Config, IReadOnlyList<Events.ShardInfo> Shards);
