using System.Buffers.Binary;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.TestSupport.FakeKernel;

namespace TaskstatsActors.Cli.Tests;

/// <summary>What one in-process run of the command line printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.TrimEnd('\r')).ToArray();

    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.TrimEnd('\r')).ToArray();

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}--- stderr\n{Error}";
}

/// <summary>Runs <see cref="TaskstatsCli.RunAsync"/> in-process with string writers, against a fake or the real kernel.</summary>
internal static class CliHarness
{
    public static async Task<CliResult> RunAsync(Func<INetlinkSocket> openSocket, params string[] args) =>
        await RunAsync(openSocket, CancellationToken.None, args);

    public static async Task<CliResult> RunAsync(Func<INetlinkSocket> openSocket, CancellationToken cancellationToken, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await TaskstatsCli.RunAsync(args, new CliEnvironment(output, error, openSocket), cancellationToken);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public static Task<CliResult> RunAsync(FakeKernel kernel, params string[] args) => RunAsync(kernel.OpenSocket, args);
}

/// <summary>
/// A socket to a <see cref="FakeKernel"/> that tells when the command's receive loop has started: the
/// first receive after the kernel acknowledged a request (the cpumask registration). Exits delivered
/// from then on reach the loop rather than the request still waiting for its answer.
/// </summary>
internal sealed class ObservedSocket(FakeNetlinkSocket inner) : INetlinkSocket
{
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _acknowledged;
    private byte[]? _heldAcknowledgement;

    public FakeNetlinkSocket Inner => inner;

    /// <summary>Completes when the receive loop waits for exit messages.</summary>
    public Task Listening => _listening.Task;

    /// <summary>
    /// Runs once, when the first acknowledgement arrives, and lets what it delivers overtake that
    /// acknowledgement: as when a task exits between the kernel registering a cpumask and sending the ack.
    /// </summary>
    public Action? BeforeFirstAcknowledgement { get; set; }

    public uint PortId => inner.PortId;

    public void Send(ReadOnlySpan<byte> datagram) => inner.Send(datagram);

    public bool WaitReadable(WakeSignal wake, TimeSpan timeout)
    {
        if (_acknowledged)
            _listening.TrySetResult();
        return inner.WaitReadable(wake, timeout);
    }

    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_heldAcknowledgement is { } held)
        {
            _heldAcknowledgement = null;
            _acknowledged = true;
            held.CopyTo(buffer);
            return held.Length;
        }
        if (_acknowledged)
            _listening.TrySetResult();
        var length = await inner.ReceiveAsync(buffer, cancellationToken);
        if (!IsAcknowledgement(buffer.Span[..length]))
            return length;
        if (BeforeFirstAcknowledgement is { } overtake)
        {
            BeforeFirstAcknowledgement = null;
            _heldAcknowledgement = buffer[..length].ToArray();
            overtake();
            var overtaking = inner.TryReceive(buffer.Span);
            if (overtaking >= 0)
                return overtaking;
            return await ReceiveAsync(buffer, cancellationToken);
        }
        _acknowledged = true;
        return length;
    }

    public int TryReceive(Span<byte> buffer) => inner.TryReceive(buffer);

    public int SetReceiveBuffer(int bytes) => inner.SetReceiveBuffer(bytes);

    public void EndCongestion() => inner.EndCongestion();

    public int ReceiveBufferSize => inner.ReceiveBufferSize;

    public uint DropCount => inner.DropCount;

    public uint QueuedBytes => inner.QueuedBytes;

    public void Dispose() => inner.Dispose();

    private static bool IsAcknowledgement(ReadOnlySpan<byte> datagram) =>
        datagram.Length >= NetlinkHeader.Size + 4
        && NetlinkHeader.Read(datagram).Type == NetlinkMessageType.Error
        && BinaryPrimitives.ReadInt32LittleEndian(datagram[NetlinkHeader.Size..]) == 0;
}
