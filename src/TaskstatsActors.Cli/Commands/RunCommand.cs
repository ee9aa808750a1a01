using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using TaskstatsActors.Cli.Output;
using TaskstatsActors.Kernel.Cpus;
using TaskstatsActors.Kernel.Netlink;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Cli.Commands;

/// <summary>
/// <c>run -- CMD [ARGS…]</c> (getdelays -c): runs the command and prints its exit record. The exit
/// record is sent before the parent is told of the exit, so once the child is reaped its record is
/// already queued on our socket, registered beforehand for every online CPU.
/// </summary>
internal static class RunCommand
{
    private const int ReceiveBuffer = 8 * 1024 * 1024;

    public static Command Create(CliEnvironment environment)
    {
        var json = new Option<bool>("--json") { Description = "Print the record as one JSON object with the kernel's field names." };
        var commandLine = new Argument<string[]>("command")
        {
            Description = "The command and its arguments (put them after --).",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("run", "Run a command, print its taskstats record when it exits, and exit with its status (getdelays -c).")
        {
            json, commandLine,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var argv = parse.GetValue(commandLine)!;
            using var connection = await TaskstatsConnection.OpenAsync(environment.OpenSocket(), cancellationToken);
            connection.Socket.SetReceiveBuffer(ReceiveBuffer);
            var cpus = OnlineCpus.System.ReadOnline();
            var collected = new ChildRecords();
            await connection.RegisterAsync(cpus, null, cancellationToken);
            int exitCode;
            int childPid;
            try
            {
                using var child = Start(argv);
                childPid = child.Id;
                // The child owns the terminal meanwhile; Ctrl-C reaches it too, and we wait for it.
                await child.WaitForExitAsync(CancellationToken.None);
                exitCode = child.ExitCode;
                collected.Drain(connection, childPid);
            }
            finally
            {
                connection.Deregister(cpus);
            }
            var record = collected.Process ?? collected.Task
                ?? throw new CliException(collected.Overflowed
                    ? $"the exit record of pid {childPid} was lost: the socket's receive buffer overflowed"
                    : $"no exit record of pid {childPid} arrived", ExitCode.Failure);
            if (parse.GetValue(json))
                RecordJsonWriter.WriteLine(environment.Out, record, sequence: null);
            else
                RecordTextWriter.Write(environment.Out, record);
            return exitCode;
        });
        return command;
    }

    private static Process Start(string[] argv)
    {
        var info = new ProcessStartInfo(argv[0]) { UseShellExecute = false };
        foreach (var argument in argv.AsSpan(1))
            info.ArgumentList.Add(argument);
        try
        {
            return Process.Start(info) ?? throw new CliException($"could not start {argv[0]}", ExitCode.Failure);
        }
        catch (Win32Exception e)
        {
            throw new CliException($"could not start {argv[0]}: {e.Message}", ExitCode.Failure);
        }
    }

    /// <summary>Picks the child's records out of everything queued on the socket.</summary>
    private sealed class ChildRecords
    {
        public TaskstatsRecord? Task { get; private set; }
        public TaskstatsRecord? Process { get; private set; }
        public bool Overflowed { get; private set; }

        public void Drain(TaskstatsConnection connection, int pid)
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                int length;
                try
                {
                    length = connection.Socket.TryReceive(buffer);
                }
                catch (NetlinkOverflowException)
                {
                    Overflowed = true;
                    continue;
                }
                if (length < 0)
                    return;
                try
                {
                    Pick(connection, buffer.AsSpan(0, length), pid);
                }
                catch (NetlinkDecodeException)
                {
                    // Another task's malformed message is no reason to fail ours.
                }
            }
        }

        private void Pick(TaskstatsConnection connection, ReadOnlySpan<byte> datagram, int pid)
        {
            foreach (var message in NetlinkMessage.Split(datagram))
            {
                if (message.Header.Type != connection.Family.Id)
                    continue;
                var decoded = TaskstatsMessageDecoder.Decode(message);
                if (decoded.Task is { } task && task.Id == pid)
                    Task = task;
                if (decoded.Process is { } process && process.Id == pid)
                    Process = process;
            }
        }
    }
}
