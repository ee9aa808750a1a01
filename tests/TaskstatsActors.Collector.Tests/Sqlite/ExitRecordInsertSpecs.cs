using System.Reflection;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks.Sqlite;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Tests.Sqlite;

/// <summary>
/// The exit insert binds only the values that changed since the record before: every row must still hold
/// exactly its own record, whatever the rows before it held.
/// </summary>
public sealed class ExitRecordInsertSpecs : IDisposable
{
    private static readonly PropertyInfo[] Properties = HistorySchema.KernelColumns
        .Where(field => field.Kind != TaskstatsFieldKind.Comm && field.Name != "version")
        .Select(field => typeof(TaskStats).GetProperty(string.Concat(field.Name.Split('_').Select(p => char.ToUpperInvariant(p[0]) + p[1..])))!)
        .ToArray();

    private readonly HistoryFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Each_row_should_hold_its_own_records_values_when_values_repeat_change_and_go_absent(int seed)
    {
        var random = new Random(seed);
        var options = _files.Options();
        var batches = new List<ExitBatch>();
        var seq = 1u;
        for (var b = 0; b < 20; b++)
        {
            var messages = new List<TaskstatsMessage>();
            for (var m = 0; m < 10; m++)
            {
                var task = RandomRecord(random, TaskstatsScope.Pid);
                TaskstatsRecord? process = random.Next(4) == 0 ? RandomRecord(random, TaskstatsScope.Tgid) : null;
                messages.Add(new TaskstatsMessage(seq++, task, process));
            }
            batches.Add(new ExitBatch(random.Next(2) == 0 ? HistoryFiles.Shard0 : HistoryFiles.Shard1, messages,
                HistoryFiles.T0.AddSeconds(random.Next(3))));
        }
        using (var writer = HistoryWriter.Open(options))
            foreach (var batch in batches)
                writer.Write(batch);

        var expected = batches.SelectMany(batch => batch.Messages.SelectMany(message =>
            new[] { message.Task, message.Process }.OfType<TaskstatsRecord>().Select(record => Row(batch, message.Sequence, record)))).ToList();
        var actual = new List<string>();
        using var connection = HistoryFiles.Read(options.Path);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM exits ORDER BY id";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var values = new List<string>();
            foreach (var column in HistorySchema.ExitKeyColumns.Concat(HistorySchema.KernelColumns.Select(field => field.Name)))
            {
                var ordinal = reader.GetOrdinal(column);
                values.Add(reader.IsDBNull(ordinal) ? "NULL" : reader.GetValue(ordinal) is string text ? text : unchecked((ulong)reader.GetInt64(ordinal)).ToString());
            }
            actual.Add(string.Join(",", values));
        }
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
            Assert.True(expected[i] == actual[i], $"row {i + 1}:\n expected {expected[i]}\n actual   {actual[i]}");
    }

    // Values drawn from a few, so that many repeat the record before; absent often enough to follow a value.
    private static TaskstatsRecord RandomRecord(Random random, TaskstatsScope scope)
    {
        var pid = (uint)random.Next(1, 4);
        var record = HistoryFiles.Task(pid, random.Next(3) switch { 0 => "alpha", 1 => "beta", _ => "gamma" });
        var stats = record.Stats;
        // A record without ac_comm (version 1) between two with the same name.
        if (random.Next(4) == 0)
            stats.AcComm = null;
        foreach (var property in Properties)
        {
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var absent = type != property.PropertyType && random.Next(4) == 0;
            var value = (ulong)random.Next(3) switch { 0 => 0UL, 1 => 7UL, _ => ulong.MaxValue - 1 };
            property.SetValue(stats, absent ? null
                : type == typeof(ulong) ? value
                : type == typeof(uint) ? (uint)value
                : type == typeof(ushort) ? (ushort)value
                : (object)(byte)value);
        }
        return new TaskstatsRecord(scope, pid, stats);
    }

    private static string Row(ExitBatch batch, uint sequence, TaskstatsRecord record)
    {
        var values = new List<string>
        {
            HistorySchema.ToUnixMicroseconds(batch.ReceivedAt).ToString(), batch.Shard.Index.ToString(), sequence.ToString(),
            record.Scope == TaskstatsScope.Pid ? "pid" : "tgid", record.Id.ToString(),
        };
        foreach (var field in HistorySchema.KernelColumns)
            values.Add(!record.Stats.Has(field) ? "NULL"
                : field.Kind == TaskstatsFieldKind.Comm ? record.Stats.GetText(field)!
                : record.Stats.ReadNumber(field).ToString());
        return string.Join(",", values);
    }
}
