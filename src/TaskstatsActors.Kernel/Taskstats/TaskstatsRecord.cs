namespace TaskstatsActors.Kernel.Taskstats;

/// <summary>Whether a record describes one task (thread) or a whole thread group (process).</summary>
public enum TaskstatsScope
{
    /// <summary>From <c>TASKSTATS_TYPE_AGGR_PID</c>: one task.</summary>
    Pid,
    /// <summary>From <c>TASKSTATS_TYPE_AGGR_TGID</c>: a thread group, summed over its threads.</summary>
    Tgid,
}

/// <summary>One <c>struct taskstats</c> with the id it was sent for.</summary>
/// <param name="Scope">Pid (a task) or tgid (a process).</param>
/// <param name="Id">The pid or tgid.</param>
/// <param name="Stats">The decoded statistics.</param>
public readonly record struct TaskstatsRecord(TaskstatsScope Scope, uint Id, TaskStats Stats);

/// <summary>
/// One <c>TASKSTATS_CMD_NEW</c> message: an exit notice (or a reply to a get). An exit always carries
/// the task's record; the process record rides along when the last thread of a multi-threaded process exits.
/// </summary>
/// <param name="Sequence">The message's <c>nlmsg_seq</c>: for exit messages, the kernel's per-CPU counter.</param>
/// <param name="Task">The <c>AGGR_PID</c> record, if present.</param>
/// <param name="Process">The <c>AGGR_TGID</c> record, if present.</param>
public sealed record TaskstatsMessage(uint Sequence, TaskstatsRecord? Task, TaskstatsRecord? Process)
{
    /// <summary>The records in the message, task first.</summary>
    public IEnumerable<TaskstatsRecord> Records
    {
        get
        {
            if (Task is { } task) yield return task;
            if (Process is { } process) yield return process;
        }
    }
}
