using System.Text;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Listening;
using TaskstatsActors.Collector.Streaming;

namespace TaskstatsActors.Collector.Status;

/// <summary>A snapshot of the collector's figures, per shard and per sink, for the status line and the final summary.</summary>
public sealed record CollectorSummary(IReadOnlyList<ShardSnapshot> Shards, IReadOnlyList<SinkSnapshot> Sinks, TimeSpan Elapsed)
{
    /// <summary>Records delivered, all shards.</summary>
    public long Records => Shards.Sum(s => s.Records);

    /// <summary>Exit messages lost, all shards.</summary>
    public long Lost => Shards.Sum(s => s.Lost);

    /// <summary>The end-of-run report, one line per shard and sink.</summary>
    public string Format()
    {
        var text = new StringBuilder();
        text.AppendLine($"collected for {Elapsed.TotalSeconds:0.0} s: {Records} records, {Lost} lost, " +
                        $"{Shards.Sum(s => s.Overflows)} overflow incidents, {Shards.Sum(s => s.Restarts)} restarts");
        text.AppendLine("shard  cpus        records     lost  overflows  restarts  duplicates  seq-gaps  malformed  uncertain  buffer");
        foreach (var s in Shards)
            text.AppendLine($"{s.Shard.Index,5}  {s.Shard.Cpus.ToString(),-10}{s.Records,9}{s.Lost,9}{s.Overflows,11}{s.Restarts,10}{s.Duplicates,12}{s.SequenceGaps,10}{s.Malformed,11}{s.Uncertain,11}  {s.ReceiveBuffer}");
        foreach (var sink in Sinks.Where(k => k.DroppedRecords > 0))
            text.AppendLine($"sink {sink.Name}: {sink.DroppedRecords} records dropped by its full buffer (overflow = drop)");
        return text.ToString().TrimEnd();
    }

    /// <summary>Takes a snapshot of the running figures.</summary>
    public static CollectorSummary Take(IReadOnlyList<(ShardInfo Shard, ShardFigures Figures)> shards, IReadOnlyList<SinkFigures> sinks, TimeSpan elapsed) =>
        new(shards.Select(s => new ShardSnapshot(s.Shard, s.Figures.Records, s.Figures.Messages, s.Figures.Lost, s.Figures.Overflows,
                s.Figures.Restarts, s.Figures.DuplicatesDropped, s.Figures.SequenceGaps, s.Figures.Malformed, s.Figures.Uncertain,
                s.Figures.QueuedBytes, s.Figures.ReceiveBuffer)).ToList(),
            sinks.Select(s => new SinkSnapshot(s.Name, s.DroppedRecords)).ToList(), elapsed);
}

/// <summary>One shard's figures at a moment.</summary>
public sealed record ShardSnapshot(ShardInfo Shard, long Records, long Messages, long Lost, long Overflows, long Restarts,
    long Duplicates, long SequenceGaps, long Malformed, long Uncertain, long QueuedBytes, long ReceiveBuffer);

/// <summary>One sink's figures at a moment.</summary>
public sealed record SinkSnapshot(string Name, long DroppedRecords);
