using System.Diagnostics;
using TaskstatsActors.Kernel.Netlink;

namespace TaskstatsActors.Kernel.Tests.Netlink;

/// <summary>
/// The default <see cref="INetlinkSocket.ReceiveBatch"/> (one <see cref="INetlinkSocket.TryReceive"/> at a time,
/// a failure after the first datagram deferred to the next call), run on a fake that does not override it,
/// and <see cref="WakeSignal"/>.
/// </summary>
public sealed class ReceiveBatchTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    /// <summary>A receive queue of datagrams and exceptions; deliberately leaves ReceiveBatch to the interface's default.</summary>
    private sealed class QueueSocket : INetlinkSocket
    {
        private readonly Queue<object> _queue = new();

        public int TryReceiveCalls { get; private set; }

        public int Queued => _queue.Count;

        public QueueSocket Enqueue(params byte[][] datagrams)
        {
            foreach (var datagram in datagrams)
                _queue.Enqueue(datagram);
            return this;
        }

        public QueueSocket EnqueueFault(Exception fault)
        {
            _queue.Enqueue(fault);
            return this;
        }

        public uint PortId => 777;

        public void Send(ReadOnlySpan<byte> datagram) => throw new NotSupportedException();

        public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) => throw new NotSupportedException();

        public int TryReceive(Span<byte> buffer)
        {
            TryReceiveCalls++;
            if (!_queue.TryDequeue(out var item))
                return -1;
            if (item is Exception fault)
                throw fault;
            var datagram = (byte[])item;
            datagram.CopyTo(buffer);
            return datagram.Length;
        }

        public bool WaitReadable(WakeSignal wake, TimeSpan timeout)
        {
            if (_queue.Count == 0)
                wake.WhenSet.Wait(timeout);
            return _queue.Count > 0;
        }

        public int SetReceiveBuffer(int bytes) => bytes * 2;

        public void EndCongestion() { }

        public int ReceiveBufferSize => 212_992;

        public uint DropCount => 0;

        public uint QueuedBytes => 0;

        public void Dispose()
        {
        }
    }

    /// <summary>Datagram <paramref name="n"/>: <paramref name="length"/> bytes that differ from every other datagram's.</summary>
    private static byte[] Datagram(int n, int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
            bytes[i] = (byte)(n * 31 + i * 7 + 1);
        return bytes;
    }

    private static List<byte[]> Contents(DatagramBatch batch)
    {
        var contents = new List<byte[]>();
        for (var i = 0; i < batch.Count; i++)
            contents.Add(batch[i].ToArray());
        return contents;
    }

    // Through the interface: the default method is not a member of the class.
    private static int ReceiveBatch(INetlinkSocket socket, DatagramBatch batch, int limit = int.MaxValue) => socket.ReceiveBatch(batch, limit);

    [Fact]
    public void ReceiveBatch_returns_the_queued_datagrams_in_order_byte_exact_up_to_capacity()
    {
        const int datagramSize = 256;
        var datagrams = new[] { Datagram(1, 16), Datagram(2, 100), Datagram(3, datagramSize), Datagram(4, 17), Datagram(5, 200), Datagram(6, 40) };
        var socket = new QueueSocket().Enqueue(datagrams);
        var batch = new DatagramBatch(capacity: 4, datagramSize: datagramSize);

        var first = ReceiveBatch(socket, batch);

        Assert.Equal(4, first);
        Assert.Equal(4, batch.Count);
        Assert.Equal(datagrams[..4], Contents(batch));
        Assert.All(Enumerable.Range(0, batch.Count), i => Assert.False(batch.IsTruncated(i)));
        Assert.Equal(2, socket.Queued); // capacity reached: the rest stay queued

        var second = ReceiveBatch(socket, batch);

        Assert.Equal(2, second);
        Assert.Equal(datagrams[4..], Contents(batch));
        Assert.Throws<ArgumentOutOfRangeException>(() => batch[2].Length);
    }

    [Fact]
    public void ReceiveBatch_returns_0_on_an_empty_queue_and_forgets_the_previous_batch()
    {
        var socket = new QueueSocket();
        var batch = new DatagramBatch(capacity: 8, datagramSize: 64);

        Assert.Equal(0, ReceiveBatch(socket, batch));
        Assert.Equal(0, batch.Count);

        socket.Enqueue(Datagram(1, 20), Datagram(2, 30));
        Assert.Equal(2, ReceiveBatch(socket, batch));

        Assert.Equal(0, ReceiveBatch(socket, batch));
        Assert.Equal(0, batch.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => batch[0].Length);
    }

    [Fact]
    public void ReceiveBatch_takes_no_more_than_limit_and_leaves_the_rest_for_the_next_call()
    {
        var datagrams = Enumerable.Range(1, 5).Select(n => Datagram(n, 16 + n)).ToArray();
        var socket = new QueueSocket().Enqueue(datagrams);
        var batch = new DatagramBatch(capacity: 64, datagramSize: 128);

        Assert.Equal(3, ReceiveBatch(socket, batch, limit: 3));
        Assert.Equal(datagrams[..3], Contents(batch));
        Assert.Equal(2, socket.Queued);
        Assert.Equal(3, socket.TryReceiveCalls); // stopped at the limit, without asking for a fourth

        Assert.Equal(1, ReceiveBatch(socket, batch, limit: 1));
        Assert.Equal(new[] { datagrams[3] }, Contents(batch));

        Assert.Equal(1, ReceiveBatch(socket, batch));
        Assert.Equal(new[] { datagrams[4] }, Contents(batch));
        Assert.Equal(0, socket.Queued);
    }

    [Fact]
    public void A_failure_after_some_datagrams_is_thrown_by_the_next_call_and_the_call_after_that_works()
    {
        var fault = new NetlinkOverflowException();
        var before = new[] { Datagram(1, 24), Datagram(2, 48) };
        var after = Datagram(3, 32);
        var socket = new QueueSocket().Enqueue(before).EnqueueFault(fault).Enqueue(after);
        var batch = new DatagramBatch(capacity: 16, datagramSize: 64);

        var received = ReceiveBatch(socket, batch);

        Assert.Equal(2, received);
        Assert.Equal(before, Contents(batch));

        var thrown = Assert.Throws<NetlinkOverflowException>(() => ReceiveBatch(socket, batch));

        Assert.Same(fault, thrown);
        Assert.Equal(fault.Message, thrown.Message);
        Assert.Equal(0, batch.Count); // the datagrams of the previous call are not offered twice
        Assert.Equal(1, socket.Queued); // the deferred failure is thrown before anything more is received

        Assert.Equal(1, ReceiveBatch(socket, batch));
        Assert.Equal(new[] { after }, Contents(batch));
        Assert.Equal(0, ReceiveBatch(socket, batch)); // thrown once only
    }

    [Fact]
    public void A_deferred_failure_keeps_its_type_and_message()
    {
        var fault = new NetlinkErrorException("receiving from the netlink socket", Errno.EINVAL);
        var socket = new QueueSocket().Enqueue(Datagram(1, 20)).EnqueueFault(fault);
        var batch = new DatagramBatch(capacity: 4, datagramSize: 64);

        Assert.Equal(1, ReceiveBatch(socket, batch));
        var thrown = Assert.Throws<NetlinkErrorException>(() => ReceiveBatch(socket, batch));

        Assert.Same(fault, thrown);
        Assert.Equal(Errno.EINVAL, thrown.Errno);
        Assert.Equal(fault.Message, thrown.Message);
        Assert.Equal(0, ReceiveBatch(socket, batch));
    }

    [Fact]
    public void A_failure_on_the_first_datagram_is_thrown_straight_away()
    {
        var fault = new InvalidOperationException("first receive fails");
        var next = Datagram(7, 40);
        var socket = new QueueSocket().EnqueueFault(fault).Enqueue(next);
        var batch = new DatagramBatch(capacity: 4, datagramSize: 64);

        var thrown = Assert.Throws<InvalidOperationException>(() => ReceiveBatch(socket, batch));

        Assert.Same(fault, thrown);
        Assert.Equal("first receive fails", thrown.Message);
        Assert.Equal(0, batch.Count);
        Assert.Equal(1, socket.Queued); // nothing after the failure was taken

        Assert.Equal(1, ReceiveBatch(socket, batch)); // and it is not thrown a second time
        Assert.Equal(new[] { next }, Contents(batch));
    }

    [Fact]
    public void DatagramBatch_rejects_a_capacity_below_1_and_room_below_a_netlink_header()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DatagramBatch(capacity: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DatagramBatch(datagramSize: NetlinkHeader.Size - 1));
        var batch = new DatagramBatch();
        Assert.Equal(DatagramBatch.DefaultCapacity, batch.Capacity);
        Assert.Equal(DatagramBatch.DefaultDatagramSize, batch.DatagramSize);
        Assert.Equal(0, batch.Count);
    }

    [Fact]
    public void WakeSignal_Wait_returns_false_after_the_timeout_when_unset()
    {
        using var wake = new WakeSignal();
        var timeout = TimeSpan.FromMilliseconds(200);
        var clock = Stopwatch.StartNew();

        var set = wake.Wait(timeout);

        clock.Stop();
        Assert.False(set);
        Assert.True(clock.Elapsed >= timeout - TimeSpan.FromMilliseconds(20), $"returned after {clock.Elapsed.TotalMilliseconds} ms");
        Assert.True(clock.Elapsed < Patience, $"returned after {clock.Elapsed.TotalMilliseconds} ms");
        Assert.False(wake.WhenSet.IsCompleted);
    }

    [Fact]
    public void WakeSignal_set_before_the_wait_is_not_lost()
    {
        using var wake = new WakeSignal();
        wake.Set();
        var clock = Stopwatch.StartNew();

        var set = wake.Wait(Patience);

        clock.Stop();
        Assert.True(set);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"returned after {clock.Elapsed.TotalMilliseconds} ms");
        Assert.True(wake.Wait(TimeSpan.Zero), "a wait does not consume the signal; only Reset clears it");
        Assert.True(wake.WhenSet.IsCompletedSuccessfully);
    }

    [Fact]
    public void WakeSignal_Reset_clears_it_however_often_it_was_set()
    {
        using var wake = new WakeSignal();
        wake.Set();
        wake.Set();
        wake.Set();
        Assert.True(wake.Wait(TimeSpan.Zero));

        wake.Reset();

        Assert.False(wake.Wait(TimeSpan.FromMilliseconds(50)));
        Assert.False(wake.WhenSet.IsCompleted);

        wake.Set();
        Assert.True(wake.Wait(TimeSpan.Zero));
        Assert.True(wake.WhenSet.IsCompletedSuccessfully);
    }

    [Fact]
    public void WakeSignal_Reset_of_an_unset_signal_leaves_it_unset_and_settable()
    {
        using var wake = new WakeSignal();
        var whenSet = wake.WhenSet;

        wake.Reset();

        Assert.False(wake.Wait(TimeSpan.Zero));
        Assert.Same(whenSet, wake.WhenSet); // nobody waiting on the old task is left behind
        wake.Set();
        Assert.True(whenSet.IsCompletedSuccessfully);
        Assert.True(wake.Wait(TimeSpan.Zero));
    }

    [Fact]
    public async Task WakeSignal_WhenSet_completes_when_another_thread_sets_it()
    {
        using var wake = new WakeSignal();
        var whenSet = wake.WhenSet;
        Assert.False(whenSet.IsCompleted);

        await Task.Run(wake.Set);

        await whenSet.WaitAsync(Patience);
        Assert.True(whenSet.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task WakeSignal_Set_from_another_thread_ends_a_blocked_Wait_promptly()
    {
        using var wake = new WakeSignal();
        using var waiting = new ManualResetEventSlim();
        var clock = new Stopwatch();
        var waiter = Task.Factory.StartNew(() =>
        {
            waiting.Set();
            clock.Start();
            var set = wake.Wait(Patience);
            clock.Stop();
            return set;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(waiting.Wait(Patience), "the waiting thread did not start");
        await Task.Delay(50); // most likely blocked in poll() by now; if not, the set must still not be lost

        wake.Set();

        Assert.True(await waiter.WaitAsync(Patience));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"woke after {clock.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void WakeSignal_Set_and_Reset_after_Dispose_do_nothing()
    {
        var wake = new WakeSignal();
        var whenSet = wake.WhenSet;
        wake.Dispose();

        var error = Record.Exception(() =>
        {
            wake.Set();
            wake.Reset();
            wake.Set();
            wake.Dispose();
        });

        Assert.Null(error);
        Assert.False(whenSet.IsCompleted);
    }
}
