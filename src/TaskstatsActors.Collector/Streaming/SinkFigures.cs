namespace TaskstatsActors.Collector.Streaming;

/// <summary>One sink's figures: records its <c>drop</c> buffer discarded.</summary>
public sealed class SinkFigures(string name)
{
    private long _droppedRecords;

    /// <summary>The sink's name.</summary>
    public string Name { get; } = name;

    /// <summary>Records dropped for this sink alone because its buffer was full.</summary>
    public long DroppedRecords => Interlocked.Read(ref _droppedRecords);

    internal void AddDropped(long records) => Interlocked.Add(ref _droppedRecords, records);
}
