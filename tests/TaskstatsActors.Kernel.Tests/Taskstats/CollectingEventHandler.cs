using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Kernel.Tests.Taskstats;

/// <summary>Keeps what arrives while a request waits: decoded exit messages (in arrival order) and overflows.</summary>
internal sealed class CollectingEventHandler(ushort familyId) : INetlinkEventHandler
{
    private readonly object _gate = new();
    private readonly List<TaskstatsMessage> _messages = [];
    private int _overflows;

    public int Overflows
    {
        get { lock (_gate) return _overflows; }
    }

    public IReadOnlyList<TaskstatsMessage> Messages
    {
        get { lock (_gate) return [.. _messages]; }
    }

    public void OnMessage(in NetlinkMessage message)
    {
        if (message.Header.Type != familyId)
            return;
        var decoded = TaskstatsMessageDecoder.Decode(message);
        lock (_gate)
            _messages.Add(decoded);
    }

    public void OnOverflow()
    {
        lock (_gate)
            _overflows++;
    }

    /// <summary>Adds a message received outside a request, keeping arrival order with those seen by <see cref="OnMessage"/>.</summary>
    public void Add(TaskstatsMessage message)
    {
        lock (_gate)
            _messages.Add(message);
    }

    public void AddOverflow() => OnOverflow();
}
