using System.Buffers.Binary;
using System.Diagnostics;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;
using TaskstatsActors.Kernel.Tests.Netlink;
using TaskstatsActors.Kernel.Tests.Taskstats;
using TaskstatsActors.TestSupport;
using Xunit.Abstractions;

namespace TaskstatsActors.Kernel.Tests.RealKernel;

/// <summary>
/// The real <see cref="NetlinkSocket"/>'s <c>recvmmsg()</c> batches, its <c>poll()</c> wait with a
/// <see cref="WakeSignal"/>, and <see cref="NetlinkSocket.ReceiveAsync"/> on top of that wait.
/// Exits are made by the load generator with a command name unique to the test.
/// </summary>
[Collection(RealKernelCollection.Name)]
public sealed class BatchedReceiveRealKernelTests(ITestOutputHelper output)
{
    private const int Exits = 300;
    private const int LargeBuffer = 64 * 1024 * 1024;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    // Only the load generator gets longer: its first use may compile it.
    private static readonly TimeSpan LoadPatience = TimeSpan.FromSeconds(30);

    /// <summary>The highest online CPU: the existing tests use CPU 1 where there is one.</summary>
    private static int OneOnlineCpu() => OnlineCpus.System.ReadOnline().Max;

    private static async Task<LoadResult> RunLoadAsync(LoadOptions options)
    {
        using var cancel = new CancellationTokenSource(LoadPatience);
        return await LoadGenerator.RunAsync(options, cancel.Token);
    }

    /// <summary>A request the kernel acknowledges whatever the family: <c>NLMSG_NOOP</c> with <c>NLM_F_ACK</c>.</summary>
    private static byte[] NoopAckRequest(uint sequence, uint portId) =>
        NetlinkBytes.Message(NetlinkMessageType.Noop, sequence, portId, [], flags: NetlinkFlags.Request | NetlinkFlags.Ack);

    /// <summary>
    /// The pid of an exit message from its first bytes, as far as they go: the nested <c>TASKSTATS_TYPE_PID</c>
    /// that opens <c>TASKSTATS_TYPE_AGGR_PID</c> right after the generic netlink header; null when not there.
    /// </summary>
    private static uint? PidOf(ReadOnlySpan<byte> datagram)
    {
        const int aggregate = NetlinkHeader.Size + 4;
        const int nested = aggregate + 4;
        if (datagram.Length < nested + 8)
            return null;
        var aggregateType = BinaryPrimitives.ReadUInt16LittleEndian(datagram[(aggregate + 2)..]) & 0x3fff;
        var nestedLength = BinaryPrimitives.ReadUInt16LittleEndian(datagram[nested..]);
        var nestedType = BinaryPrimitives.ReadUInt16LittleEndian(datagram[(nested + 2)..]) & 0x3fff;
        if (aggregateType != TaskstatsProtocol.TypeAggrPid || nestedType != TaskstatsProtocol.TypePid || nestedLength != 8)
            return null;
        return BinaryPrimitives.ReadUInt32LittleEndian(datagram[(nested + 4)..]);
    }

    [SkippableFact]
    public async Task ReceiveBatch_should_drain_every_exit_record_of_the_children_in_batches()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        var cpu = OneOnlineCpu();
        var mask = CpuMask.Single(cpu);
        using var connection = await TaskstatsConnection.OpenAsync();
        connection.Socket.SetReceiveBuffer(LargeBuffer);
        var socket = connection.Socket;
        Assert.IsType<NetlinkSocket>(socket);
        var comm = LoadGenerator.UniqueComm("tsbatch");
        var duringRequests = new CollectingEventHandler(connection.Family.Id);
        await connection.RegisterAsync(mask, duringRequests);
        try
        {
            // Nobody reads while the children exit, so the records pile up in the queue; every one is
            // queued before its parent can reap the child, so all are there when the generator is done.
            var result = await RunLoadAsync(new LoadOptions { Mode = LoadMode.Vfork, Count = Exits, Comm = comm, Cpu = cpu });
            Assert.Equal(Exits, result.Exits);

            var batch = new DatagramBatch();
            using var wake = new WakeSignal();
            var ours = duringRequests.Messages.Where(m => m.Task?.Stats.AcComm == comm).ToList();
            var sizes = new List<int>();
            var overflows = 0;
            var truncated = 0;
            var deadline = Stopwatch.StartNew();
            void Receive()
            {
                int received;
                try
                {
                    received = socket.ReceiveBatch(batch);
                }
                catch (NetlinkOverflowException)
                {
                    overflows++;
                    return;
                }
                if (received == 0)
                    return;
                sizes.Add(received);
                Assert.Equal(received, batch.Count);
                for (var i = 0; i < batch.Count; i++)
                {
                    if (batch.IsTruncated(i))
                        truncated++;
                    foreach (var message in NetlinkMessage.Split(batch[i]))
                    {
                        if (message.Header.Type != connection.Family.Id)
                            continue;
                        var decoded = TaskstatsMessageDecoder.Decode(message);
                        if (decoded.Task?.Stats.AcComm == comm)
                            ours.Add(decoded);
                    }
                }
            }
            while (ours.Count < Exits)
            {
                var left = Patience - deadline.Elapsed;
                if (left <= TimeSpan.Zero)
                    Assert.Fail($"waited {Patience.TotalSeconds} s for {Exits} records named {comm}; have {ours.Count} in batches [{string.Join(", ", sizes)}], {overflows} overflows");
                var before = sizes.Count;
                Receive();
                if (sizes.Count == before)
                    socket.WaitReadable(wake, left);
            }
            // Anything of ours still queued now would be a duplicate (others' exits may go on arriving: bounded).
            while (deadline.Elapsed < Patience + Patience)
            {
                var before = sizes.Count;
                Receive();
                if (sizes.Count == before)
                    break;
            }

            output.WriteLine($"{sizes.Sum()} datagrams in {sizes.Count} ReceiveBatch calls: [{string.Join(", ", sizes)}]");
            Assert.Equal(Exits, ours.Count);
            Assert.Equal(Exits, ours.Select(m => m.Task!.Value.Id).Distinct().Count());
            Assert.All(ours, m => Assert.Equal(m.Task!.Value.Id, m.Task.Value.Stats.AcPid));
            Assert.Contains(sizes, size => size > 1);
            Assert.All(sizes, size => Assert.InRange(size, 1, batch.Capacity));
            Assert.Equal(0, truncated);
            Assert.Equal(0, overflows);
            Assert.Equal(0u, socket.DropCount);
        }
        finally
        {
            await connection.DeregisterAsync(mask, duringRequests);
        }
    }

    [SkippableFact]
    public async Task ReceiveBatch_should_respect_limit_on_the_real_socket()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        using var connection = await TaskstatsConnection.OpenAsync();
        var socket = connection.Socket;
        const int requests = 5;
        for (var i = 0; i < requests; i++)
            socket.Send(NoopAckRequest((uint)(1000 + i), socket.PortId));
        var batch = new DatagramBatch(capacity: 16, datagramSize: 256);

        // The acknowledgements are queued inside send(), so they are all there now.
        Assert.Equal(2, socket.ReceiveBatch(batch, limit: 2));
        var sequences = new List<uint> { NetlinkHeader.Read(batch[0]).Sequence, NetlinkHeader.Read(batch[1]).Sequence };
        Assert.Equal(3, socket.ReceiveBatch(batch));
        for (var i = 0; i < batch.Count; i++)
        {
            var header = NetlinkHeader.Read(batch[i]);
            Assert.Equal(NetlinkMessageType.Error, header.Type);
            Assert.False(batch.IsTruncated(i));
            sequences.Add(header.Sequence);
        }
        Assert.Equal(Enumerable.Range(1000, requests).Select(n => (uint)n), sequences);
        Assert.Equal(0, socket.ReceiveBatch(batch));
        Assert.Equal(0, batch.Count);
    }

    [SkippableFact]
    public async Task WaitReadable_should_return_false_promptly_when_another_thread_sets_the_wake_signal()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        // Registered for no cpumask: no exit message of any process can make it readable.
        using var connection = await TaskstatsConnection.OpenAsync();
        var socket = connection.Socket;
        using var wake = new WakeSignal();

        // Unset and nothing queued: it waits out the timeout.
        var clock = Stopwatch.StartNew();
        Assert.False(socket.WaitReadable(wake, TimeSpan.FromMilliseconds(200)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(180), $"returned after {clock.Elapsed.TotalMilliseconds} ms");

        // Set from another thread while blocked.
        using var waiting = new ManualResetEventSlim();
        var waitTime = new Stopwatch();
        var waiter = Task.Factory.StartNew(() =>
        {
            waiting.Set();
            waitTime.Start();
            var readable = socket.WaitReadable(wake, Patience);
            waitTime.Stop();
            return readable;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(waiting.Wait(Patience), "the waiting thread did not start");
        await Task.Delay(100); // most likely in poll() by now; a set before the wait must end it just the same
        var setter = new Thread(wake.Set);
        setter.Start();
        setter.Join();

        Assert.False(await waiter.WaitAsync(Patience + TimeSpan.FromSeconds(1)));
        output.WriteLine($"WaitReadable returned {waitTime.Elapsed.TotalMilliseconds:F1} ms after it began");
        Assert.True(waitTime.Elapsed < TimeSpan.FromSeconds(2), $"woke after {waitTime.Elapsed.TotalMilliseconds} ms, not promptly");

        // Still set: the next wait ends at once; after Reset it waits again.
        clock.Restart();
        Assert.False(socket.WaitReadable(wake, Patience));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"returned after {clock.Elapsed.TotalMilliseconds} ms");
        wake.Reset();
        clock.Restart();
        Assert.False(socket.WaitReadable(wake, TimeSpan.FromMilliseconds(100)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(80), $"returned after {clock.Elapsed.TotalMilliseconds} ms after Reset");
    }

    [SkippableFact]
    public async Task WaitReadable_should_return_true_when_a_datagram_is_queued_even_with_the_wake_signal_set()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        using var connection = await TaskstatsConnection.OpenAsync();
        var socket = connection.Socket;
        using var wake = new WakeSignal();

        socket.Send(NoopAckRequest(4242, socket.PortId));
        var clock = Stopwatch.StartNew();
        Assert.True(socket.WaitReadable(wake, Patience));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"returned after {clock.Elapsed.TotalMilliseconds} ms");

        wake.Set();
        Assert.True(socket.WaitReadable(wake, Patience), "a readable socket wins over the wake signal");

        var batch = new DatagramBatch(capacity: 4, datagramSize: 256);
        Assert.Equal(1, socket.ReceiveBatch(batch));
        var header = NetlinkHeader.Read(batch[0]);
        Assert.Equal(NetlinkMessageType.Error, header.Type);
        Assert.Equal(4242u, header.Sequence);
        Assert.False(socket.WaitReadable(wake, Patience), "drained, and the wake signal is set");
    }

    [SkippableFact]
    public async Task ReceiveBatch_into_64_byte_slots_should_flag_exit_messages_truncated()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        const int slot = 64;
        var cpu = OneOnlineCpu();
        var mask = CpuMask.Single(cpu);
        // One socket reads whole messages to learn the pid of our child; the other gets the same exits cut to 64 bytes.
        using var whole = await TaskstatsConnection.OpenAsync();
        using var cut = await TaskstatsConnection.OpenAsync();
        whole.Socket.SetReceiveBuffer(LargeBuffer);
        cut.Socket.SetReceiveBuffer(LargeBuffer);
        var collector = new ExitRecordCollector(whole);
        var cutEvents = new CollectingEventHandler(cut.Family.Id);
        var comm = LoadGenerator.UniqueComm("tstrunc");
        await whole.RegisterAsync(mask, collector.Events);
        try
        {
            await cut.RegisterAsync(mask, cutEvents);
            try
            {
                await RunLoadAsync(new LoadOptions { Mode = LoadMode.Fork, Count = 1, Comm = comm, Cpu = cpu });
                await collector.ReceiveUntilAsync(messages => messages.Any(m => m.Task?.Stats.AcComm == comm), Patience, $"the exit record named {comm}");
                var record = collector.Messages.Single(m => m.Task?.Stats.AcComm == comm).Task!.Value;
                var pid = record.Id;

                var batch = new DatagramBatch(capacity: 16, datagramSize: slot);
                using var wake = new WakeSignal();
                var clock = Stopwatch.StartNew();
                var seen = new List<string>();
                int? found = null;
                string? ourDatagram = null;
                while (found is null)
                {
                    var left = Patience - clock.Elapsed;
                    if (left <= TimeSpan.Zero)
                        Assert.Fail($"no datagram with pid {pid} within {Patience.TotalSeconds} s; saw {seen.Count}: {string.Join("; ", seen.TakeLast(20))}");
                    var received = cut.Socket.ReceiveBatch(batch);
                    if (received == 0)
                    {
                        cut.Socket.WaitReadable(wake, left);
                        continue;
                    }
                    for (var i = 0; i < received; i++)
                    {
                        var header = NetlinkHeader.Read(batch[i]);
                        seen.Add($"type {header.Type} nlmsg_len {header.Length} got {batch[i].Length} truncated {batch.IsTruncated(i)} pid {PidOf(batch[i])}");
                        // Every taskstats exit message is longer than 64 bytes.
                        Assert.Equal(cut.Family.Id, header.Type);
                        Assert.True(header.Length > slot, seen[^1]);
                        Assert.True(batch.IsTruncated(i), seen[^1]);
                        Assert.Equal(slot, batch[i].Length);
                        if (PidOf(batch[i]) == pid)
                        {
                            found = i;
                            ourDatagram = seen[^1];
                        }
                    }
                }
                output.WriteLine($"pid {pid} found among {seen.Count} datagrams, ours: {ourDatagram}");
                Assert.True(batch.IsTruncated(found.Value));
                Assert.Equal(slot, batch[found.Value].Length);
            }
            finally
            {
                await cut.DeregisterAsync(mask, cutEvents);
            }
        }
        finally
        {
            await whole.DeregisterAsync(mask, collector.Events);
        }
    }

    [SkippableFact]
    public async Task ReceiveAsync_should_throw_OperationCanceledException_promptly_when_cancelled()
    {
        TestSupport.RealKernel.SkipUnlessAvailable();
        using var connection = await TaskstatsConnection.OpenAsync(); // registered for no cpumask: nothing arrives
        var socket = connection.Socket;
        var buffer = new byte[8192];
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var clock = Stopwatch.StartNew();

        var fired = -1.0;
        using var firedAt = cancel.Token.Register(() => fired = clock.Elapsed.TotalMilliseconds);
        var receive = socket.ReceiveAsync(buffer, cancel.Token).AsTask();
        var finished = await Task.WhenAny(receive, Task.Delay(Patience));

        clock.Stop();
        Assert.Same(receive, finished);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive);
        output.WriteLine($"cancelled after {clock.Elapsed.TotalMilliseconds:F1} ms; token callbacks ran at {fired} ms; pool threads {ThreadPool.ThreadCount}");
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(80), $"ended after {clock.Elapsed.TotalMilliseconds} ms, before the token was cancelled");
        // The wait blocks a thread of its own, not a pool thread, so the token's timer callback normally runs on
        // time (~100 ms). The bound is loose because tests running beside this one may hold the pool's threads.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"ended after {clock.Elapsed.TotalMilliseconds} ms, not promptly");

        // An already cancelled token throws at once.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => socket.ReceiveAsync(buffer, new CancellationToken(true)).AsTask());

        // The socket still works afterwards, and a datagram that arrives while it waits ends the wait.
        using var patience = new CancellationTokenSource(Patience);
        var pending = socket.ReceiveAsync(buffer, patience.Token).AsTask();
        await Task.Delay(50); // most likely waiting in poll() by now; if not, it finds the datagram queued
        Assert.False(pending.IsCompleted, "nothing was sent yet");
        socket.Send(NoopAckRequest(99, socket.PortId));
        var length = await pending.WaitAsync(Patience + TimeSpan.FromSeconds(1));
        var header = NetlinkHeader.Read(buffer.AsSpan(0, length));
        Assert.Equal(NetlinkMessageType.Error, header.Type);
        Assert.Equal(99u, header.Sequence);
    }
}
