namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>
/// Reads the same list of number fields out of every record it is given, in the list's order: each field's
/// value and whether the record has it.
/// </summary>
/// <remarks>
/// For code that takes many fields of each of many records, such as a row per record in a database.
/// Field by field, <see cref="TaskStats.ReadNumber"/> looks up the field's kind, place and size on every
/// call; this reader looks them up once, when it is made, and reads a record in one loop without allocating.
/// </remarks>
public sealed class TaskstatsNumberReader
{
    private readonly int[] _indexes;
    private readonly int[] _offsets;
    private readonly int[] _sizes;

    /// <summary>A reader of <paramref name="fields"/>, in that order.</summary>
    /// <exception cref="ArgumentException">A field is not a number (<c>ac_comm</c>, or a version 17 timestamp).</exception>
    public TaskstatsNumberReader(IEnumerable<TaskstatsField> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        Fields = fields.ToArray();
        foreach (var field in Fields)
            if (!field.IsNumber)
                throw new ArgumentException($"{field.Name} is not a number field", nameof(fields));
        _indexes = Fields.Select(field => field.Index).ToArray();
        _offsets = Fields.Select(field => field.StorageOffset).ToArray();
        _sizes = Fields.Select(field => field.Size).ToArray();
    }

    /// <summary>The fields read, in the order <see cref="Read"/> fills its spans.</summary>
    public IReadOnlyList<TaskstatsField> Fields { get; }

    /// <summary>
    /// Fills <paramref name="values"/> and <paramref name="present"/> with each field's value and whether
    /// <paramref name="stats"/> has it, at the field's place in <see cref="Fields"/>. A field the record does
    /// not have reads as 0.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than <see cref="Fields"/>.</exception>
    public void Read(TaskStats stats, Span<ulong> values, Span<bool> present)
    {
        ArgumentNullException.ThrowIfNull(stats);
        if (values.Length < _indexes.Length || present.Length < _indexes.Length)
            throw new ArgumentException($"the spans must hold {_indexes.Length} fields");
        var indexes = _indexes;
        var offsets = _offsets;
        var sizes = _sizes;
        for (var i = 0; i < indexes.Length; i++)
        {
            var has = stats.HasIndex(indexes[i]);
            present[i] = has;
            values[i] = has ? stats.ReadNumberAt(offsets[i], sizes[i]) : 0;
        }
    }
}
