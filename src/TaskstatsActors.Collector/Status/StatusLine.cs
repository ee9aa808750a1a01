using System.Text;

namespace TaskstatsActors.Collector.Status;

/// <summary>The periodic one-line status: records/s per shard, socket queue depth, restarts, lost.</summary>
public static class StatusLine
{
    /// <summary>Formats the change between two snapshots.</summary>
    public static string Format(CollectorSummary previous, CollectorSummary now)
    {
        var seconds = Math.Max(0.001, (now.Elapsed - previous.Elapsed).TotalSeconds);
        var text = new StringBuilder($"status: {now.Records} records, {now.Lost} lost |");
        for (var i = 0; i < now.Shards.Count; i++)
        {
            var s = now.Shards[i];
            var before = i < previous.Shards.Count ? previous.Shards[i].Records : 0;
            text.Append($" shard {s.Shard.Index} ({s.Shard.Cpus}): {(s.Records - before) / seconds:0}/s queue {s.QueuedBytes / 1024} KiB restarts {s.Restarts} lost {s.Lost} |");
        }
        return text.ToString().TrimEnd('|', ' ');
    }
}
