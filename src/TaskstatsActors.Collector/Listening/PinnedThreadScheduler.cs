using System.Collections.Concurrent;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Host;

namespace TaskstatsActors.Collector.Listening;

/// <summary>
/// Runs tasks on one dedicated thread pinned to a shard's CPUs, so that a listener's receive loop
/// (whose awaits resume on the current scheduler) reads its socket where its exits happen.
/// </summary>
internal sealed class PinnedThreadScheduler : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _queue = new();
    private readonly Thread _thread;

    public PinnedThreadScheduler(CpuMask cpus, string name)
    {
        _thread = new Thread(() =>
        {
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
