using System.CommandLine;
using TaskstatsActors.Cli.Output;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.GenericNetlink;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Commands;

/// <summary>
/// <c>listen --cpus MASK</c> (getdelays -m -l -r -w): registers the mask, prints every exit record
/// as it arrives, and deregisters on exit or Ctrl-C. <c>ENOBUFS</c> is reported with a count, not fatal.
/// </summary>
internal static class ListenCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var cpus = new Option<string>("--cpus") { Description = "CPUs whose exiting tasks to hear, in the kernel's list syntax (e.g. 0-3,8).", Required = true };
        var receiveBuffer = new Option<string?>("--rcvbuf") { Description = "Socket receive buffer to ask for (e.g. 4M); the kernel doubles it." };
        var write = new Option<FileInfo?>("--write") { Description = "Also append each record's raw struct taskstats bytes to FILE (getdelays -w)." };
        var count = new Option<long?>("--count") { Description = "Stop after N records." };
        var json = new Option<bool>("--json") { Description = "Print JSON Lines: one object per record, the kernel's field names plus pid/tgid and seq." };
        var command = new Command("listen", "Print the taskstats record of every task that exits on the given CPUs.")
        {
            cpus, receiveBuffer, write, count, json,
        };
        command.Validators.Add(result =>
        {
            if (result.ValueOrDefault(receiveBuffer) is { } text && !ByteSize.TryParse(text, out _, out var error))
                result.AddError($"--rcvbuf: {error}");
            if (result.ValueOrDefault(count) is <= 0)
                result.AddError("--count must be a positive number");
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var mask = CpuMask.Parse(parse.GetValue(cpus)!);
            mask.Validate(OnlineCpus.System.ReadOnline());
            using var connection = await TaskstatsConnection.OpenAsync(environment.OpenSocket(), cancellationToken);
            if (parse.GetValue(receiveBuffer) is { } text)
            {
                ByteSize.TryParse(text, out var bytes, out _);
                var granted = connection.Socket.SetReceiveBuffer((int)Math.Min(bytes, int.MaxValue / 2));
                environment.Error.WriteLine($"receive buffer: {granted} bytes");
            }
            await using var raw = parse.GetValue(write) is { } file ? new FileStream(file.FullName, FileMode.Append, FileAccess.Write) : null;
            var listener = new RecordPrinter(environment, connection, raw, parse.GetValue(json), parse.GetValue(count));
            // Records that arrive before the kernel acknowledges the registration are printed too.
            await connection.RegisterAsync(mask, listener, cancellationToken);
            try
            {
                await listener.RunAsync(cancellationToken);
            }
            finally
            {
                // Without an acknowledgement: after an overflow the queue may be too full to take one.
                connection.Deregister(mask);
                environment.Error.WriteLine(listener.Summary());
            }
            return ExitCode.Success;
        });
        return command;
    }

    /// <summary>The receive loop: decode, print, count losses.</summary>
    private sealed class RecordPrinter(CliEnvironment environment, TaskstatsConnection connection, Stream? raw, bool json, long? limit)
        : INetlinkEventHandler
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly List<byte[]> _rawStats = [];
        private long _records;
        private long _overflows;
        private readonly uint _initialDrops = connection.Socket.DropCount;
        private long _malformed;
        private uint _dropsSeen = connection.Socket.DropCount;

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            while (limit is null || _records < limit)
            {
                int length;
                try
                {
                    length = await connection.Socket.ReceiveAsync(_buffer, cancellationToken);
                }
                catch (NetlinkOverflowException)
                {
                    ReportOverflow();
                    continue;
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                try
                {
                    Print(_buffer.AsSpan(0, length));
                }
                catch (NetlinkDecodeException e)
                {
                    _malformed++;
                    environment.Error.WriteLine($"skipped a malformed message: {e.Message}");
                }
                if (raw is not null)
                    await raw.FlushAsync(CancellationToken.None);
            }
        }

        private void Print(ReadOnlySpan<byte> datagram)
        {
            foreach (var message in NetlinkMessage.Split(datagram))
                Print(message);
            environment.Out.Flush();
        }

        private void Print(in NetlinkMessage message)
        {
            if (message.Header.Type != connection.Family.Id)
                return;
            _rawStats.Clear();
            var decoded = TaskstatsMessageDecoder.Decode(message, raw is null ? null : (_, stats) => _rawStats.Add(stats.ToArray()));
            // Raw bytes are written only once the whole message decoded, so the file never holds half a message.
            foreach (var stats in _rawStats)
                raw!.Write(stats);
            foreach (var record in decoded.Records)
            {
                if (limit is not null && _records >= limit)
                    return;
                if (json)
                    RecordJsonWriter.WriteLine(environment.Out, record, decoded.Sequence);
                else
                    RecordTextWriter.Write(environment.Out, record, decoded.Sequence);
                _records++;
            }
        }

        /// <summary>A message that arrived while the registration waited for its acknowledgement.</summary>
        public void OnMessage(in NetlinkMessage message)
        {
            try
            {
                Print(message);
            }
            catch (NetlinkDecodeException e)
            {
                _malformed++;
                environment.Error.WriteLine($"skipped a malformed message: {e.Message}");
            }
        }

        public void OnOverflow() => ReportOverflow();

        private void ReportOverflow()
        {
            var drops = connection.Socket.DropCount;
            var lost = drops - _dropsSeen;
            _dropsSeen = drops;
            _overflows++;
            environment.Error.WriteLine(
                $"ENOBUFS: {lost} records lost (receive buffer {connection.Socket.ReceiveBufferSize} bytes; a larger --rcvbuf or a narrower --cpus helps)");
        }

        // The drop counter also covers drops after the last ENOBUFS the socket reported.
        public string Summary() =>
            $"received {_records} records, lost {connection.Socket.DropCount - _initialDrops} in {_overflows} overflows (ENOBUFS)" +
            (_malformed > 0 ? $", skipped {_malformed} malformed messages" : "");
    }
}
