using System.Text.Json;
using Akka.Actor;
using TaskstatsActors.Collector.Events;
using TaskstatsActors.Collector.Sinks;
using Xunit.Abstractions;

namespace TaskstatsActors.Collector.Tests.Sinks;

public sealed class JsonLinesSinkSpecs : SinkSpec
{
    public JsonLinesSinkSpecs(ITestOutputHelper output) : base(output) { }

    private IActorRef Start(string hocon) =>
        Sys.ActorOf(Props.Create(() => new JsonLinesSink(Context("jsonl", hocon))));

    private static List<JsonElement> Parse(string path) =>
        File.ReadAllLines(path).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();

    [Fact]
    public void JsonLinesSink_should_write_one_object_per_record_with_pid_shard_seq_and_kernel_names()
    {
        var path = PathOf("out/exits.jsonl");
        var batches = SinkEvents.Exits(batches: 6, perBatch: 50);

        RunToEnd(Start($"path = \"{path}\""), batches);

        var lines = Parse(path);
        Assert.Equal(300, lines.Count);
        foreach (var line in lines)
        {
            // "pid" first, as get --json prints it, then shard and seq, then the kernel's fields.
            Assert.Equal(["pid", "shard", "seq", "version"], line.EnumerateObject().Take(4).Select(p => p.Name));
            Assert.Equal("worker", line.GetProperty("ac_comm").GetString());
            Assert.Equal(line.GetProperty("pid").GetUInt32(), line.GetProperty("ac_pid").GetUInt32());
            Assert.False(line.TryGetProperty("event", out _));
        }
        Assert.Equal(Enumerable.Range(1000, 300).Select(i => (uint)i), lines.Select(l => l.GetProperty("pid").GetUInt32()));
        // Batch 0 went to shard 0 with sequence 1..50, batch 1 to shard 1 with 1..50.
        Assert.Equal(0, lines[0].GetProperty("shard").GetInt32());
        Assert.Equal(1, lines[50].GetProperty("shard").GetInt32());
        Assert.Equal(1u, lines[50].GetProperty("seq").GetUInt32());
        Assert.Equal(50u, lines[99].GetProperty("seq").GetUInt32());
    }

    [Fact]
    public void JsonLinesSink_should_write_a_process_record_as_a_tgid_line_with_the_same_seq()
    {
        var path = PathOf("exits.jsonl");
        var batch = new ExitBatch(SinkEvents.Shard0, [SinkEvents.LastThread(sequence: 9, pid: 4243, tgid: 4242, comm: "java")], SinkEvents.T0);

        RunToEnd(Start($"path = \"{path}\""), [batch]);

        var lines = Parse(path);
        Assert.Equal(2, lines.Count);
        Assert.Equal(4243u, lines[0].GetProperty("pid").GetUInt32());
        Assert.Equal("tgid", lines[1].EnumerateObject().First().Name);
        Assert.Equal(4242u, lines[1].GetProperty("tgid").GetUInt32());
        Assert.All(lines, line => Assert.Equal(9u, line.GetProperty("seq").GetUInt32()));
    }

    [Fact]
    public void JsonLinesSink_should_write_loss_restart_and_window_events_as_lines_of_their_own()
    {
        var path = PathOf("exits.jsonl");
        CollectorEvent[] events = [.. SinkEvents.Exits(1, 3), SinkEvents.Loss(123), SinkEvents.Restart(), SinkEvents.Window()];

        RunToEnd(Start($"path = \"{path}\""), events);

        var lines = Parse(path);
        Assert.Equal(6, lines.Count);

        var lost = lines[3];
        Assert.Equal("lost", lost.GetProperty("event").GetString());
        Assert.Equal(1, lost.GetProperty("shard").GetInt32());
        Assert.Equal("1", lost.GetProperty("cpus").GetString());
        Assert.Equal(SinkEvents.T0.AddSeconds(1), lost.GetProperty("time").GetDateTimeOffset());
        Assert.Equal(123, lost.GetProperty("count").GetInt64());
        Assert.Equal("socket-drop-counter", lost.GetProperty("source").GetString());

        var restart = lines[4];
        Assert.Equal("listener-restarted", restart.GetProperty("event").GetString());
        Assert.Equal(1, restart.GetProperty("shard").GetInt32());
        Assert.Equal(8 << 20, restart.GetProperty("receive_buffer").GetInt32());
        Assert.Equal("overflow", restart.GetProperty("reason").GetString());

        var window = lines[5];
        Assert.Equal("window", window.GetProperty("event").GetString());
        Assert.Equal(150, window.GetProperty("exits").GetInt64());
        Assert.Equal(7, window.GetProperty("lost").GetInt64());
        var make = window.GetProperty("by_command")[0];
        Assert.Equal("make", make.GetProperty("comm").GetString());
        Assert.Equal(3_600_000ul, make.GetProperty("delays").GetProperty("cpu").GetProperty("total_ns").GetUInt64());
        // A maximum the records did not carry is left out, not written as 0.
        Assert.False(make.GetProperty("delays").GetProperty("blkio").TryGetProperty("max_ns", out _));
        Assert.Equal(1000, window.GetProperty("by_user")[0].GetProperty("uid").GetInt32());
        Assert.Equal(4242, window.GetProperty("by_process")[0].GetProperty("tgid").GetInt32());
        Assert.Equal("cc1", window.GetProperty("by_process")[0].GetProperty("comm").GetString());
        Assert.Equal("cc1", window.GetProperty("top_by_delay").GetProperty("cpu")[0].GetProperty("comm").GetString());
    }

    [Fact]
    public void JsonLinesSink_should_leave_window_summaries_out_when_windows_is_off()
    {
        var path = PathOf("exits.jsonl");

        RunToEnd(Start($"path = \"{path}\"\nwindows = off"), [.. SinkEvents.Exits(1, 2), SinkEvents.Window(), SinkEvents.Loss(1)]);

        var lines = Parse(path);
        Assert.Equal(3, lines.Count);
        Assert.Equal("lost", lines[2].GetProperty("event").GetString());
    }

    [Fact]
    public void JsonLinesSink_should_rotate_at_the_size_and_keep_that_many_files()
    {
        var path = PathOf("exits.jsonl");
        const long rotateSize = 8 * 1024;
        var batches = SinkEvents.Exits(batches: 10, perBatch: 10);

        RunToEnd(Start($"path = \"{path}\"\nrotate-size = 8 KiB\nkeep = 3"), batches);

        string[] kept = [path + ".3", path + ".2", path + ".1", path];
        Assert.All(kept, file => Assert.True(File.Exists(file), file));
        Assert.False(File.Exists(path + ".4"));
        Assert.All(kept, file =>
        {
            var bytes = File.ReadAllBytes(file);
            Assert.InRange(bytes.Length, 1, rotateSize);
            Assert.Equal((byte)'\n', bytes[^1]);
        });
        // Oldest to newest, the kept files hold the last records in order, none split or repeated.
        var pids = kept.SelectMany(Parse).Select(line => line.GetProperty("pid").GetUInt32()).ToList();
        Assert.Equal(1099u, pids[^1]);
        Assert.Equal(Enumerable.Range((int)pids[0], pids.Count).Select(i => (uint)i), pids);
        // Each rotated file was rotated because the next line did not fit in it.
        var longestLine = File.ReadAllLines(path).Max(line => line.Length + 1);
        Assert.All(kept[..^1], file => Assert.True(new FileInfo(file).Length + longestLine > rotateSize - 64, file));
    }

    [Fact]
    public void JsonLinesSink_should_append_to_an_existing_file_and_end_a_torn_last_line()
    {
        var path = PathOf("exits.jsonl");
        RunToEnd(Start($"path = \"{path}\""), SinkEvents.Exits(1, 2));
        File.AppendAllText(path, "{\"pid\": 7, \"ac_co");  // a previous run killed mid-line

        RunToEnd(Start($"path = \"{path}\""), SinkEvents.Exits(1, 3));

        var lines = File.ReadAllLines(path);
        Assert.Equal(6, lines.Length);
        Assert.Equal("{\"pid\": 7, \"ac_co", lines[2]);
        Assert.All(lines.Where((_, i) => i != 2), line => JsonDocument.Parse(line).Dispose());
    }
}
