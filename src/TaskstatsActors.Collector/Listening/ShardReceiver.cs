using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Collector.Listening;

/// <summary>
/// The receive loop of one shard, kept apart from the actor so that the socket work reads top to
/// bottom: register, then on every wake-up drain everything queued into one batch and hand it to
/// the stream (waiting there when the stream backpressures), count every drop the kernel reports,
/// replace the socket make-before-break when asked, and at the end deregister and drain.
/// Only the loop touches the sockets. It runs on a thread of its own (a <see cref="ListenerThreadScheduler"/>)
/// and blocks there in <c>poll()</c>: its awaits deliberately resume on the current scheduler, so it stays
/// on that thread, and the kernel wakes it once per wait, not once per datagram.
/// </summary>
public sealed class ShardReceiver : IDisposable
{
    private readonly ShardInfo _shard;
    private readonly ListenerOptions _options;
    private readonly Func<INetlinkSocket> _open;
    private readonly ChannelWriter<CollectorEvent> _output;
    private readonly ShardFigures _figures;
    private readonly SequenceTracker _tracker;
    private readonly IReceiverObserver _observer;
    private readonly DatagramBatch _datagrams = new();
    private readonly ConcurrentQueue<Command> _commands = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly WakeSignal _wake = new();
    private TimeSpan _linger;
    private long _drainedAt = Stopwatch.GetTimestamp();
    private ShardSocket? _current;
    private bool _countGapsAsLoss;
    private readonly string? _faultReason;

    // Both sockets' buffer during a handover (granted twice this, 64 MiB: about half a second of a storm's
    // exits), so that neither drops anything there even when this thread is preempted between its steps.
    private const int OverlapBuffer = 32 << 20;

    /// <summary>Creates the loop; nothing is opened until <see cref="RunAsync"/>.</summary>
    /// <param name="wiring">The shard and what its listener is connected to.</param>
    /// <param name="observer">Told of overflows and replacements.</param>
    /// <param name="afterFault">
    /// True when this loop replaces one that failed: the sequence gap between the two is then the
    /// exact count of messages nobody received, and is reported as loss.
    /// </param>
    /// <param name="faultReason">Why the previous loop failed, told to the sinks once this one is registered.</param>
    public ShardReceiver(ShardWiring wiring, IReceiverObserver observer, bool afterFault, string? faultReason = null)
    {
        _faultReason = faultReason;
        (_shard, _options, _open, _output, _figures, _tracker) = wiring;
        _observer = observer;
        _countGapsAsLoss = afterFault;
        _linger = _options.Linger;
    }

    /// <summary>Asks the loop to replace its socket with one of <paramref name="receiveBuffer"/> bytes, make before break.</summary>
    public void RequestReplace(int receiveBuffer) => Post(new Command.Replace(receiveBuffer));

    /// <summary>Asks the loop to deregister, drain what is queued, and finish.</summary>
    public void RequestStop() => Post(new Command.Stop());

    private void Post(Command command)
    {
        _commands.Enqueue(command);
        _wake.Set();
    }

    /// <summary>
    /// Opens and registers the socket, then receives until stopped. Faults escape to the caller (the actor).
    /// Blocks the thread it runs on while it waits for exits.
    /// </summary>
    public async Task RunAsync()
    {
        try
        {
            await ReceiveUntilStoppedAsync();
        }
        finally
        {
            // Disposed while it was still registering: the socket it got was not there to close yet.
            if (_abort.IsCancellationRequested)
                _current?.Dispose();
            _wake.Dispose();
        }
    }

    private async Task ReceiveUntilStoppedAsync()
    {
        // Exits can reach the socket between the kernel registering it and its acknowledgement arriving.
        var early = new PendingMessages();
        _current = await OpenAndRegisterAsync(_options.ReceiveBuffer, early);
        _observer.Registered(_current.GrantedBuffer);
        if (_faultReason is { } reason)
            await _output.WriteAsync(new ListenerRestarted(_shard, DateTimeOffset.UtcNow, _current.GrantedBuffer, $"fault: {reason}"), _abort.Token);
        var batch = new List<TaskstatsMessage>(_options.BatchSize);
        DecodePending(early, batch, null);
        await PublishAsync(batch);
        batch = new List<TaskstatsMessage>(_options.BatchSize);
        var more = false;
        while (true)
        {
            _abort.Token.ThrowIfCancellationRequested();
            if (_commands.TryDequeue(out var command))
            {
                if (command is Command.Stop)
                {
                    await FinishAsync();
                    return;
                }
                await HandoverAsync(((Command.Replace)command).ReceiveBuffer);
                continue;
            }
            var waited = !more;
            uint queued = 0;
            var sinceLastDrain = TimeSpan.Zero;
            if (waited)
            {
                if (!_current.Socket.WaitReadable(_wake, Timeout.InfiniteTimeSpan))
                {
                    _wake.Reset();
                    continue; // a command, or the end
                }
                // Lets more exits queue up so that one drain takes many; a command cuts it short.
                if (_linger > TimeSpan.Zero)
                    _wake.Wait(_linger);
                queued = _current.Socket.QueuedBytes;
                sinceLastDrain = Stopwatch.GetElapsedTime(_drainedAt);
            }
            Exception? fault = null;
            try
            {
                more = await DrainAsync(batch);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                fault = e; // what was already received is delivered before the listener restarts
            }
            _drainedAt = Stopwatch.GetTimestamp();
            if (waited)
                _linger = NextLinger(queued, batch.Count, sinceLastDrain, _current.GrantedBuffer, _options);
            await PublishAsync(batch);
            if (fault is not null)
                ExceptionDispatchInfo.Throw(fault);
            batch = new List<TaskstatsMessage>(_options.BatchSize);
        }
    }

    /// <summary>
    /// How long the next wake-up may linger. As configured (<c>batch-linger</c>); longer, up to <c>quiet-linger</c>,
    /// when exits arrive too slowly for that to gather a quarter of a batch; and never longer than the queue takes
    /// to fill a quarter of the buffer at the rate it filled since the last drain. A small buffer or a burst thus
    /// shortens the wait (by up to 4× per drain, so it settles within a few drains) instead of overflowing the
    /// socket; a quieter queue lets it grow back.
    /// </summary>
    /// <param name="queuedBytes">Bytes queued as the last drain started.</param>
    /// <param name="drained">Messages that drain took.</param>
    /// <param name="sinceLastDrain">Time from the drain before it to that one: what those messages took to arrive (at most).</param>
    /// <param name="receiveBuffer">The socket's buffer, as granted.</param>
    /// <param name="options">The listener's <c>batch-linger</c>, <c>quiet-linger</c> and batch size.</param>
    internal static TimeSpan NextLinger(uint queuedBytes, int drained, TimeSpan sinceLastDrain, int receiveBuffer, ListenerOptions options)
    {
        var linger = options.Linger;
        if (linger <= TimeSpan.Zero)
            return linger;
        if (options.QuietLinger > linger && drained > 0)
        {
            var toQuarterBatch = sinceLastDrain.TotalSeconds * (options.BatchSize / 4.0) / drained;
            linger = TimeSpan.FromSeconds(Math.Clamp(toQuarterBatch, linger.TotalSeconds, options.QuietLinger.TotalSeconds));
        }
        if (queuedBytes == 0)
            return linger;
        var toQuarterBuffer = sinceLastDrain.TotalSeconds * (receiveBuffer / 4.0) / queuedBytes;
        return toQuarterBuffer >= linger.TotalSeconds ? linger : TimeSpan.FromSeconds(toQuarterBuffer);
    }

    /// <summary>
    /// Receives from the listener's socket without waiting until the queue is empty or the batch is full; true
    /// when it stopped because the batch is full (more may be queued).
    /// </summary>
    private async Task<bool> DrainAsync(List<TaskstatsMessage> batch, HashSet<HandoverKey>? skip = null)
    {
        var socket = _current!;
        // Under backpressure what the batch cannot take stays in the socket, where a drop is counted.
        Drained drained;
        try
        {
            while ((drained = ReceiveQueued(socket, batch, null, skip, _options.BatchSize)) == Drained.Overflowed)
                await OverflowAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ReadDropsAtFault(socket);
            throw;
        }
        _figures.SetQueue(socket.Socket.QueuedBytes, socket.GrantedBuffer);
        await ReportDropsAsync(socket);
        return drained == Drained.Full;
    }

    /// <summary>
    /// Everything still queued on the outgoing socket, which is deregistered, so its queue only shrinks: into the
    /// stream a batch at a time, keeping the key of every message for the new socket's duplicates. Its overflow
    /// reports are not counted again: its drops were read from the counter when its account closed.
    /// </summary>
    private async Task DrainRetiredAsync(ShardSocket old, HandoverBatch batch, HashSet<HandoverKey> delivered)
    {
        Drained drained;
        while ((drained = ReceiveQueued(old, batch.Messages, delivered, null, _options.BatchSize)) != Drained.Empty)
        {
            if (drained == Drained.Full)
                await PublishAsync(batch.Take());
        }
    }

    /// <summary>
    /// The new socket's first messages, checked against the keys of the old socket's last: an exit sent while both
    /// were registered came to both, and the old socket's copy is the one delivered. Such repeats are among the new
    /// socket's first messages, no more of them than the old socket delivered after the register; the check ends
    /// there, or once every repeat is found, or once the queue is empty (all that was queued before the old socket
    /// left has then been seen). Into the stream a batch at a time.
    /// </summary>
    private async Task SkipRepeatsAsync(PendingMessages fromNew, HandoverBatch batch, HashSet<HandoverKey> delivered)
    {
        var bound = delivered.Count;
        var start = batch.Total;
        // Taken off the new socket so far: the messages added to the batch and the repeats skipped (their keys are gone).
        int Taken() => batch.Total - start + bound - delivered.Count;

        DecodePending(fromNew, batch.Messages, delivered);
        while (delivered.Count > 0 && Taken() < bound)
        {
            if (batch.Messages.Count >= _options.BatchSize)
                await PublishAsync(batch.Take());
            if (!await DrainAsync(batch.Messages, delivered))
                return;
        }
    }

    /// <summary>
    /// Receives and decodes what is queued, without waiting, until the queue is empty, the batch holds
    /// <paramref name="limit"/> messages, or the socket reports an overflow (the caller decides what that means).
    /// </summary>
    private Drained ReceiveQueued(ShardSocket socket, List<TaskstatsMessage> batch, HashSet<HandoverKey>? record, HashSet<HandoverKey>? skip, int limit)
    {
        while (batch.Count < limit)
        {
            try
            {
                if (socket.Socket.ReceiveBatch(_datagrams, limit - batch.Count) == 0)
                    return Drained.Empty;
            }
            catch (NetlinkOverflowException)
            {
                return Drained.Overflowed;
            }
            DecodeReceived(batch, record, skip);
        }
        return Drained.Full;
    }

    private enum Drained { Empty, Full, Overflowed }

    private void DecodeReceived(List<TaskstatsMessage> batch, HashSet<HandoverKey>? record, HashSet<HandoverKey>? skip)
    {
        for (var i = 0; i < _datagrams.Count; i++)
        {
            if (_datagrams.IsTruncated(i))
                Malformed(); // longer than any exit message: not one we can read
            else
                Decode(_datagrams[i], batch, record, skip);
        }
        PublishSequenceGaps();
    }

    private void Decode(ReadOnlySpan<byte> datagram, List<TaskstatsMessage> batch, HashSet<HandoverKey>? record, HashSet<HandoverKey>? skip)
    {
        var familyId = _current!.Connection.Family.Id;
        try
        {
            foreach (var message in NetlinkMessage.Split(datagram))
            {
                if (message.Header.Type != familyId)
                    continue; // acknowledgements and errors of our own requests
                TaskstatsMessage decoded;
                try
                {
                    decoded = TaskstatsMessageDecoder.Decode(message);
                }
                catch (NetlinkDecodeException)
                {
                    _tracker.Observe(message.Header.Sequence);
                    Malformed();
                    continue;
                }
                var key = HandoverKey.Of(decoded);
                if (skip is not null && skip.Remove(key))
                {
                    _figures.AddDuplicates(1);
                    continue;
                }
                record?.Add(key);
                // Part of a gap may already be counted by a drop counter; only the rest is new loss.
                var unexplained = _tracker.Explain(_tracker.Observe(decoded.Sequence), _countGapsAsLoss);
                if (unexplained > 0 && _countGapsAsLoss)
                    Lost(unexplained, LossSource.SequenceGap);
                batch.Add(decoded);
            }
        }
        catch (NetlinkDecodeException)
        {
            // The rest of the datagram is unreadable; the kernel sends one exit message per datagram.
            Malformed();
        }
    }

    private void DecodePending(PendingMessages pending, List<TaskstatsMessage> batch, HashSet<HandoverKey>? skip)
    {
        foreach (var datagram in pending.Datagrams)
            Decode(datagram, batch, null, skip);
        PublishSequenceGaps();
    }

    // Once per batch of datagrams, not per message: finding the shard's own counters sorts the tracks.
    private void PublishSequenceGaps() => _figures.SetSequenceGaps(_tracker.Gaps);

    private void Malformed()
    {
        _figures.AddMalformed();
        Lost(1, LossSource.Malformed);
    }

    private readonly List<RecordsLost> _pendingLoss = [];

    private void Lost(long count, LossSource source)
    {
        _figures.AddLost(count);
        _pendingLoss.Add(new RecordsLost(_shard, DateTimeOffset.UtcNow, count, source));
    }

    private async Task OverflowAsync()
    {
        _figures.AddOverflow();
        var lost = await ReportDropsAsync(_current!);
        _observer.Overflowed(lost, _current!.GrantedBuffer);
    }

    private async Task<long> ReportDropsAsync(ShardSocket socket)
    {
        var fresh = TakeDrops(socket);
        if (_pendingLoss.Count > 0)
            await FlushLossAsync();
        return fresh;
    }

    // Reads the drop counter: what it counts that was not reported yet is lost, and settles the gaps seen ahead of it.
    private long TakeDrops(ShardSocket socket)
    {
        var fresh = socket.TakeNewDrops();
        if (fresh > 0)
            Lost(fresh, LossSource.SocketDropCounter);
        _tracker.CountedByDropCounter(fresh);
        return fresh;
    }

    /// <summary>
    /// A drain that fails does not get to read the drop counter. Gaps it saw ahead of their drops wait for
    /// that reading, and the restart's gap will not count them: read it now, while the socket is still open.
    /// </summary>
    private void ReadDropsAtFault(ShardSocket socket)
    {
        try
        {
            TakeDrops(socket);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // The counter cannot be read. The restart's gap counts the drops after the last message received;
            // any whose gap showed in the failed drain go uncounted, which is as much as can be known.
        }
    }

    private async Task FlushLossAsync()
    {
        foreach (var loss in _pendingLoss)
            await _output.WriteAsync(loss, _abort.Token);
        _pendingLoss.Clear();
    }

    private async Task PublishAsync(List<TaskstatsMessage> batch)
    {
        if (_pendingLoss.Count > 0)
            await FlushLossAsync();
        if (batch.Count == 0)
            return;
        var exits = new ExitBatch(_shard, batch, DateTimeOffset.UtcNow);
        _figures.Delivered(batch.Count, exits.RecordCount);
        // Once messages flow again after a fault restart, later gaps are drops the counter reports.
        _countGapsAsLoss = false;
        await _output.WriteAsync(exits, _abort.Token);
    }

    private async Task<ShardSocket> OpenAndRegisterAsync(int receiveBuffer, PendingMessages early)
    {
        var socket = await ShardSocket.OpenAsync(_open, receiveBuffer, _abort.Token);
        try
        {
            await socket.Connection.RegisterAsync(_shard.Cpus, early, _abort.Token);
            _figures.SetQueue(0, socket.GrantedBuffer);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Make before break. The new socket is opened first, and both sockets get a buffer far larger than the
    /// handover can fill, and the old socket's congestion is ended. The new socket registers, and the old one is
    /// deregistered right after: for those microseconds every exit goes to both sockets. The old socket's loss account
    /// closes the instant the new one is registered: whatever it drops after that, the new socket received. Neither
    /// socket drops anything there (were one to, the drops that could be exits the other socket received are counted
    /// as lost and as uncertain). Then the old socket's queue is drained and the socket closed, and the new socket's
    /// first messages that repeat the old one's are dropped as duplicates by (sequence, pid). All of it goes into the
    /// stream a batch at a time, while the new socket's buffer takes the exits, so that a deep queue is never held in
    /// memory whole. At the end the new socket is shrunk to the size asked for.
    /// </summary>
    private async Task HandoverAsync(int receiveBuffer)
    {
        var old = _current!;
        var next = await ShardSocket.OpenAsync(_open, Math.Max(receiveBuffer, OverlapBuffer), _abort.Token);
        var delivered = new HashSet<HandoverKey>();
        var batch = new HandoverBatch(_options.BatchSize);
        Exception? fault = null;
        try
        {
            var fromNew = await RegisterInPlaceOfAsync(old, next, batch);
            // From here the new socket is the listener's: a fault closes it, not the old one.
            _current = next;
            await PublishHeldAsync(batch);
            try
            {
                await DrainRetiredAsync(old, batch, delivered);
            }
            finally
            {
                old.Dispose();
            }
            // Only now: the old socket's last messages must be known before the new one's are checked against them.
            await SkipRepeatsAsync(fromNew, batch, delivered);
            next.Resize(receiveBuffer);
            _figures.SetQueue(next.Socket.QueuedBytes, next.GrantedBuffer);
            _figures.AddRestart();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The messages already taken off either socket were counted by the sequence tracker: they are
            // delivered before the listener restarts, or they would be neither delivered nor counted lost.
            fault = e;
            if (_current == old)
                TakeWhatTheOldSocketHolds(old, batch.Messages);
        }
        await PublishHeldAsync(batch);
        await PublishAsync(batch.Messages);
        if (fault is not null)
            ExceptionDispatchInfo.Throw(fault);
        await _output.WriteAsync(new ListenerRestarted(_shard, DateTimeOffset.UtcNow, next.GrantedBuffer, "overflow"), _abort.Token);
        _observer.Replaced(next.GrantedBuffer);
    }

    /// <summary>
    /// The replacement did not register, so the old socket stays the listener's until the fault restarts it. What
    /// it holds is taken into memory at once and delivered before the restart (the restart's sequence gap would
    /// otherwise count those exits as lost), and its drop counter is read. A receive that fails here leaves the rest
    /// to that gap.
    /// </summary>
    private void TakeWhatTheOldSocketHolds(ShardSocket old, List<TaskstatsMessage> batch)
    {
        try
        {
            while (ReceiveQueued(old, batch, null, null, int.MaxValue) == Drained.Overflowed)
            {
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The handover's own fault is the one the listener restarts for.
        }
        ReadDropsAtFault(old);
    }

    // The batches set aside before the register, oldest first: they precede whatever the batch holds now.
    private async Task PublishHeldAsync(HandoverBatch batch)
    {
        while (batch.TryTakeHeld(out var held))
            await PublishAsync(held);
    }

    /// <summary>
    /// The batch a handover fills; a full one goes to the stream, or is held in memory until the handover may wait on
    /// the stream, and a fresh one takes its place.
    /// </summary>
    private sealed class HandoverBatch(int capacity)
    {
        private readonly Queue<List<TaskstatsMessage>> _held = new();
        private int _taken;

        public List<TaskstatsMessage> Messages { get; private set; } = new(capacity);

        /// <summary>Messages added so far, in the batches taken and the one being filled.</summary>
        public int Total => _taken + Messages.Count;

        public List<TaskstatsMessage> Take()
        {
            var full = Messages;
            _taken += full.Count;
            Messages = new List<TaskstatsMessage>(capacity);
            return full;
        }

        /// <summary>Sets the full batch aside, ahead of everything added after it.</summary>
        public void Hold() => _held.Enqueue(Take());

        /// <summary>The oldest batch set aside, if any; these go into the stream before <see cref="Messages"/>.</summary>
        public bool TryTakeHeld(out List<TaskstatsMessage> held) => _held.TryDequeue(out held!);
    }

    /// <summary>
    /// The heart of the handover: gives the old socket room and ends its congestion, registers <paramref name="next"/>,
    /// deregisters <paramref name="old"/> right after and closes the old socket's loss account. On a failure
    /// <paramref name="next"/> is closed and <paramref name="old"/> stays the listener's.
    /// </summary>
    /// <param name="old">The outgoing socket, still registered and the listener's.</param>
    /// <param name="next">The new socket, opened and not registered.</param>
    /// <param name="batch">Holds what the old socket's queue had to give up for room (normally nothing).</param>
    /// <returns>The new socket's messages that arrived while its register request waited, not decoded yet.</returns>
    private async Task<PendingMessages> RegisterInPlaceOfAsync(ShardSocket old, ShardSocket next, HandoverBatch batch)
    {
        var fromNew = new PendingMessages();
        try
        {
            // The old socket gets room too, so that it drops nothing from here on even if this thread is
            // preempted: a drop between the two counter reads below could not be told from a real loss.
            // Its queue stays where it is, and the buffer grows by the overlap's room (granted is twice what was asked).
            old.Resize(old.GrantedBuffer / 2 + OverlapBuffer);
            // Room is not enough: a socket that overflowed drops every message until a receive leaves its queue empty
            // (netlink's congestion), and it overflowed, or it would not be replaced. Emptying it first would cost the
            // exits that come meanwhile (seconds of a storm's, at a slow sink's pace); the congestion is ended instead.
            old.Socket.EndCongestion();
            // Only where the kernel grants less than the room is some of the queue taken into memory for it. These
            // messages came before the new socket registered, so none of them can come to it too.
            MakeRoom(old, batch);
            uint before = old.Socket.DropCount, after = before;
            // The kernel adds the new listener inside send(); the old one is removed two system calls
            // later, so the overlap is microseconds, or as long as this thread is preempted there.
            // No acknowledgement for the old socket: a full queue could drop it.
            await next.Connection.RegisterAsync(_shard.Cpus, fromNew, _abort.Token, () =>
            {
                after = old.Socket.DropCount;
                old.Connection.Deregister(_shard.Cpus);
            });
            // Drops between those two reads may have reached the new socket too; normally there are none.
            _figures.AddUncertain(after - before);
            var oldLoss = unchecked(after - old.DropsAccounted);
            if (oldLoss > 0)
                Lost(oldLoss, LossSource.SocketDropCounter);
            _tracker.CountedByDropCounter(oldLoss);
            // The old socket is gone. Any drop of the new one so far hit an exit the old one may have
            // delivered: it is counted as lost with the new socket's later drops, and said to be uncertain.
            _figures.AddUncertain(unchecked(next.Socket.DropCount - next.DropsAccounted));
        }
        catch
        {
            next.Dispose();
            throw;
        }
        return fromNew;
    }

    /// <summary>
    /// Takes messages off the outgoing socket, holding full batches, while it has less than the overlap's room free.
    /// An ENOBUFS still pending from before the congestion ended is passed over: the drops are read at the register.
    /// A fault goes to the handover, which takes what the socket still holds and reads its drop counter.
    /// </summary>
    private void MakeRoom(ShardSocket old, HandoverBatch batch)
    {
        while ((long)old.GrantedBuffer - old.Socket.QueuedBytes < OverlapBuffer)
        {
            var drained = ReceiveQueued(old, batch.Messages, null, null, _options.BatchSize);
            if (drained == Drained.Empty)
                return;
            if (drained == Drained.Full)
                batch.Hold();
        }
    }

    /// <summary>Deregisters, drains everything still queued into the stream, counts the last drops, closes.</summary>
    private async Task FinishAsync()
    {
        var socket = _current!;
        // No acknowledgement: a full queue would drop it, and the kernel has acted once send() returns.
        socket.Connection.Deregister(_shard.Cpus);
        // The queue only shrinks now: into the stream a batch at a time, and what was taken before a fault too.
        var batch = new List<TaskstatsMessage>(_options.BatchSize);
        Exception? fault = null;
        try
        {
            while (await DrainAsync(batch))
            {
                await PublishAsync(batch);
                batch = new List<TaskstatsMessage>(_options.BatchSize);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            fault = e;
        }
        await PublishAsync(batch);
        if (fault is not null)
            ExceptionDispatchInfo.Throw(fault);
        socket.Dispose();
        _current = null;
    }

    /// <summary>Closes the socket without draining (the actor is stopping or restarting after a fault).</summary>
    public void Dispose()
    {
        _abort.Cancel();
        _wake.Set();
        _current?.Dispose();
        _current = null;
    }

    /// <summary>Copies the datagrams that arrive while a register or deregister request waits for its answer.</summary>
    private sealed class PendingMessages : INetlinkEventHandler
    {
        public List<byte[]> Datagrams { get; } = [];

        public void OnMessage(in NetlinkMessage message)
        {
            // Re-frame the message alone so that it decodes like a received datagram.
            var copy = new byte[NetlinkHeader.Size + message.Payload.Length];
            message.Header.Write(copy);
            message.Payload.CopyTo(copy.AsSpan(NetlinkHeader.Size));
            Datagrams.Add(copy);
        }

        public void OnOverflow() { }
    }

    private abstract record Command
    {
        public sealed record Replace(int ReceiveBuffer) : Command;
        public sealed record Stop : Command;
    }
}
