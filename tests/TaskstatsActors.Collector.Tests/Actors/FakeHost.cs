using System.Collections.Concurrent;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Collector.Tests.Actors;

/// <summary>One exit as the tests follow it: the shard it belongs to (here shard index = its only CPU), its per-CPU sequence number and pid.</summary>
public readonly record struct ExitKey(int Shard, uint Sequence, uint Pid)
{
    public override string ToString() => $"cpu{Shard}#{Sequence}/pid{Pid}";
}

/// <summary>One line of <see cref="FakeKernel.Log"/>: "open P", "rcvbuf P N", "register P mask", "deregister P mask", "close P".</summary>
public sealed record KernelLogEntry(int Position, string Verb, uint Port, string? Argument)
{
    public static KernelLogEntry Parse(int position, string line)
    {
        var parts = line.Split(' ');
        return new KernelLogEntry(position, parts[0], uint.Parse(parts[1]), parts.Length > 2 ? parts[2] : null);
    }

    public override string ToString() => $"{Position}: {Verb} {Port} {Argument}".TrimEnd();
}

/// <summary>
/// A fake host: the <see cref="FakeKernel"/>, every socket the collector opened on it (wrapped in a
/// <see cref="HookedSocket"/>), and every exit the test made. Exits are numbered by pid so that each
/// (sequence, pid) is unique over a test.
/// </summary>
public sealed class FakeHost
{
    private readonly List<HookedSocket> _sockets = [];
    private int _nextPid = 20_000;

    public FakeKernel Kernel { get; } = new();

    /// <summary>Every exit made, in order (also those made from hooks).</summary>
    public ConcurrentQueue<ExitKey> Exits { get; } = new();

    /// <summary>Runs on the listener's thread just before a request reaches the kernel.</summary>
    public Action<HookedSocket, RequestKind, string?>? OnRequest { get; set; }

    /// <summary>The open function handed to the collector.</summary>
    public INetlinkSocket Open()
    {
        lock (_sockets)
        {
            var socket = new HookedSocket(this, Kernel.OpenSocket(), _sockets.Count);
            _sockets.Add(socket);
            return socket;
        }
    }

    /// <summary>Every socket opened so far, in order.</summary>
    public IReadOnlyList<HookedSocket> Sockets
    {
        get
        {
            lock (_sockets)
                return _sockets.ToList();
        }
    }

    /// <summary>The sockets that registered <paramref name="mask"/>, in order of opening.</summary>
    public IReadOnlyList<HookedSocket> SocketsOf(string mask) => Sockets.Where(s => s.Mask == mask).ToList();

    /// <summary>A task exits on <paramref name="cpu"/> (a single-threaded process: one PID record).</summary>
    public ExitKey Exit(int cpu)
    {
        var pid = (uint)Interlocked.Increment(ref _nextPid);
        var sequence = Kernel.Exit(cpu, new TaskstatsRecord(TaskstatsScope.Pid, pid, ExitMessageBuilder.Stats(pid, "actorspec")));
        var key = new ExitKey(cpu, sequence, pid);
        Exits.Enqueue(key);
        return key;
    }

    /// <summary>Makes <paramref name="count"/> exits on <paramref name="cpu"/>.</summary>
    public List<ExitKey> Exit(int cpu, int count) => Enumerable.Range(0, count).Select(_ => Exit(cpu)).ToList();

    /// <summary>The kernel's log so far, parsed.</summary>
    public IReadOnlyList<KernelLogEntry> Log => Kernel.Log.Select((line, i) => KernelLogEntry.Parse(i, line)).ToList();

    /// <summary>Bytes one exit message costs in a fake socket's receive budget (datagram plus the fake's skb overhead).</summary>
    public static int MessageCost
    {
        get
        {
            var record = new TaskstatsRecord(TaskstatsScope.Pid, 1, ExitMessageBuilder.Stats(1, "actorspec"));
            return ExitMessageBuilder.Build(31, 0, 0, record, null).Length + 768;
        }
    }

    internal void BeforeRequest(HookedSocket socket, RequestKind kind, string? mask)
    {
        if (kind == RequestKind.Register)
        {
            // A replacement is about to register: from now on, drops of the socket it replaces may
            // have reached the replacement, so they are the replacement's to count (make before break).
            foreach (var other in Sockets)
            {
                if (other != socket && other.Mask == mask && !other.Inner.IsClosed && other.DropsWhenReplaced is null)
                    other.DropsWhenReplaced = other.DropCount;
            }
        }
        OnRequest?.Invoke(socket, kind, mask);
    }
}
