using System.Runtime.ExceptionServices;

namespace TaskstatsActors.Kernel.Netlink;

/// <summary>
/// Room for up to <see cref="Capacity"/> datagrams received by one <c>recvmmsg()</c> call, reused from
/// call to call. The memory is pinned, so the kernel writes straight into it.
/// </summary>
public sealed unsafe class DatagramBatch
{
    /// <summary>Datagrams per system call by default: what the batched C reference listener uses.</summary>
    public const int DefaultCapacity = 64;

    /// <summary>Room per datagram by default. A taskstats exit message is under 1 KiB.</summary>
    public const int DefaultDatagramSize = 8 * 1024;

    private readonly byte[] _memory;
    private readonly int[] _lengths;
    private readonly bool[] _truncated;

    /// <summary>Creates the batch's buffers.</summary>
    public DatagramBatch(int capacity = DefaultCapacity, int datagramSize = DefaultDatagramSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(datagramSize, NetlinkHeader.Size);
        Capacity = capacity;
        DatagramSize = datagramSize;
        _memory = GC.AllocateUninitializedArray<byte>(capacity * datagramSize, pinned: true);
        _lengths = new int[capacity];
        _truncated = new bool[capacity];
        Headers = GC.AllocateArray<LibC.MMsgHdr>(capacity, pinned: true);
        Vectors = GC.AllocateArray<LibC.IoVec>(capacity, pinned: true);
        fixed (byte* memory = _memory)
        fixed (LibC.IoVec* vectors = Vectors)
        {
            for (var i = 0; i < capacity; i++)
            {
                Vectors[i] = new LibC.IoVec { Base = memory + (long)i * datagramSize, Length = (nuint)datagramSize };
                Headers[i].Header.Vectors = vectors + i;
                Headers[i].Header.VectorCount = 1;
            }
        }
    }

    /// <summary>How many datagrams one call can receive.</summary>
    public int Capacity { get; }

    /// <summary>Bytes of room per datagram; a longer datagram is cut and marked <see cref="IsTruncated"/>.</summary>
    public int DatagramSize { get; }

    /// <summary>Datagrams the last receive put here.</summary>
    public int Count { get; private set; }

    /// <summary>The <paramref name="index"/>th datagram received.</summary>
    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return _memory.AsSpan(index * DatagramSize, _lengths[index]);
        }
    }

    /// <summary>True when the datagram was longer than <see cref="DatagramSize"/> and its tail is missing.</summary>
    public bool IsTruncated(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        return _truncated[index];
    }

    internal LibC.MMsgHdr[] Headers { get; }

    internal LibC.IoVec[] Vectors { get; }

    /// <summary>A failure met after some datagrams were received, to be thrown by the next receive (as the kernel does).</summary>
    internal ExceptionDispatchInfo? PendingFault { get; set; }

    internal void ThrowPendingFault()
    {
        var fault = PendingFault;
        PendingFault = null;
        fault?.Throw();
    }

    internal void Clear() => Count = 0;

    /// <summary>The room of the next datagram, for sockets that receive one at a time.</summary>
    internal Span<byte> NextSlot => _memory.AsSpan(Count * DatagramSize, DatagramSize);

    internal void Add(int length, bool truncated)
    {
        _lengths[Count] = Math.Min(length, DatagramSize);
        _truncated[Count] = truncated;
        Count++;
    }
}
