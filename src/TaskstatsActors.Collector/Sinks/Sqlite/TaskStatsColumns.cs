using System.Linq.Expressions;
using System.Reflection;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Sinks.Sqlite;

/// <summary>One kernel field stored in <see cref="HistorySchema.Exits"/>: its column name and how to read it from a record.</summary>
/// <param name="Name">The column, named as the kernel names the field (<c>cpu_delay_total</c>).</param>
/// <param name="IsText">True for <c>ac_comm</c>; every other column is an integer.</param>
/// <param name="Number">Reads an integer field; null when the record's struct version lacks it.</param>
/// <param name="Text">Reads the text field.</param>
internal sealed record TaskStatsColumn(string Name, bool IsText, Func<TaskStats, ulong?> Number, Func<TaskStats, string?> Text);

/// <summary>
/// The kernel columns of <see cref="HistorySchema.Exits"/>, in order, with compiled readers. Each is the
/// <see cref="TaskStats"/> property of the kernel field's name in PascalCase (<c>ac_btime64</c> is
/// <c>AcBtime64</c>), so the list follows <see cref="TaskstatsLayout.Fields"/> without writing names twice.
/// </summary>
internal static class TaskStatsColumns
{
    public static IReadOnlyList<TaskStatsColumn> All { get; } = HistorySchema.KernelColumns.Select(Build).ToArray();

    private static TaskStatsColumn Build(TaskstatsField field)
    {
        var name = string.Concat(field.Name.Split('_').Select(part => char.ToUpperInvariant(part[0]) + part[1..]));
        var property = typeof(TaskStats).GetProperty(name, BindingFlags.Public | BindingFlags.Instance)
            ?? throw new InvalidOperationException($"struct taskstats field {field.Name} has no TaskStats.{name} property");
        var stats = Expression.Parameter(typeof(TaskStats), "stats");
        var value = Expression.Property(stats, property);
        if (field.Kind == TaskstatsFieldKind.Comm)
        {
            var text = Expression.Lambda<Func<TaskStats, string?>>(value, stats).Compile();
            return new TaskStatsColumn(field.Name, true, _ => null, text);
        }
        var number = Expression.Lambda<Func<TaskStats, ulong?>>(Expression.Convert(value, typeof(ulong?)), stats).Compile();
        return new TaskStatsColumn(field.Name, false, number, _ => null);
    }
}
