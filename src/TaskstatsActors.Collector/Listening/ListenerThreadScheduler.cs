using System.Collections.Concurrent;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Host;

namespace TaskstatsActors.Collector.Listening;

/// <summary>
/// Runs tasks on one dedicated thread: a listener's receive loop, whose awaits resume on the current
/// scheduler and which blocks in <c>poll()</c>, so it must not sit on a pool thread. Optionally pinned to
/// the shard's CPUs, so that the loop reads its socket where its exits happen.
/// </summary>
internal sealed class ListenerThreadScheduler : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _queue = new();
    private readonly Thread _thread;

    /// <param name="pinTo">The CPUs to pin the thread to, or null to let it run anywhere.</param>
    /// <param name="name">The thread's name (as <c>ps -L</c> and debuggers show it).</param>
    public ListenerThreadScheduler(CpuMask? pinTo, string name)
    {
        _thread = new Thread(() =>
        {
            if (pinTo is { } cpus)
                CpuAffinity.PinCurrentThread(cpus);
            foreach (var task in _queue.GetConsumingEnumerable())
                TryExecuteTask(task);
        })
        {
            IsBackground = true,
            Name = name,
        };
        _thread.Start();
    }

    public override int MaximumConcurrencyLevel => 1;

    protected override void QueueTask(Task task)
    {
        if (!_queue.IsAddingCompleted)
            _queue.Add(task);
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Thread.CurrentThread == _thread && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    /// <summary>Lets the thread finish what is queued and end.</summary>
    public void Dispose() => _queue.CompleteAdding();
}
