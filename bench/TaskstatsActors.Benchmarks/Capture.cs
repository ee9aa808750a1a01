using System.Diagnostics;
using System.Globalization;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Benchmarks;

/// <summary>
/// Captures real exit messages (whole netlink datagrams, not just the struct as <c>listen --write</c> does)
/// for <c>capacity --corpus FILE</c>: registers a cpumask with a 64 MiB buffer, runs a command that makes
/// exits, keeps every exit message that arrives until the command has ended and the socket is quiet.
/// Needs root (CAP_NET_ADMIN).
/// </summary>
public static class Capture
{
    private const string Usage = """
        capture --out FILE [--cpus MASK] [--count N] [-- COMMAND ARGS...]
          --cpus   cpumask to register (default: the online CPUs)
          --count  stop after N messages (default 10000)
          COMMAND  what makes the exits (default: a shell loop running /bin/true N times)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        string? output = null;
        var cpus = OnlineCpus();
        var count = 10_000;
        string[]? command = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--out": output = Next(); break;
                case "--cpus": cpus = CpuMask.Parse(Next()); break;
                case "--count": count = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--": command = args[(i + 1)..]; i = args.Length; break;
                default:
                    Console.Error.WriteLine($"unknown argument {args[i]}\n{Usage}");
                    return 2;
            }
        }
        if (output is null)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        command ??= ["/bin/sh", "-c", $"i=0; while [ $i -lt {count} ]; do /bin/true; i=$((i+1)); done"];

        using var socket = NetlinkSocket.Open();
        socket.SetReceiveBuffer(64 << 20);
        using var connection = await TaskstatsConnection.OpenAsync(socket);
        await connection.RegisterAsync(cpus);
        var start = new ProcessStartInfo(command[0]);
        foreach (var argument in command[1..])
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;

        var datagrams = new List<byte[]>();
        var buffer = new byte[64 * 1024];
        while (datagrams.Count < count)
        {
            using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(process.HasExited ? 500 : 5_000));
            int length;
            try
            {
                length = await socket.ReceiveAsync(buffer, quiet.Token);
            }
            catch (OperationCanceledException)
            {
                if (process.HasExited)
                    break;
                continue;
            }
            catch (NetlinkOverflowException)
            {
                Console.Error.WriteLine("ENOBUFS: some exit messages were lost; the capture goes on");
                continue;
            }
            foreach (var message in NetlinkMessage.Split(buffer.AsSpan(0, length)))
            {
                if (message.Header.Type != connection.Family.Id)
                    continue;
                // Re-frame each message alone, as the kernel sends exit messages (one per datagram).
                var copy = new byte[NetlinkHeader.Size + message.Payload.Length];
                message.Header.Write(copy);
                message.Payload.CopyTo(copy.AsSpan(NetlinkHeader.Size));
                datagrams.Add(copy);
            }
        }
        connection.Deregister(cpus);
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        ExitCorpus.Save(output, datagrams);
        var corpus = ExitCorpus.Load(output);
        Console.WriteLine($"{corpus.Messages} exit messages ({corpus.Records} records, {corpus.Bytes:N0} bytes) written to {output}");
        return 0;
    }

    private static CpuMask OnlineCpus() => CpuMask.Parse(File.ReadAllText("/sys/devices/system/cpu/online").Trim());
}
