using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using TaskstatsActors.Kernel.Taskstats;

namespace TaskstatsActors.Benchmarks;

/// <summary>
/// <see cref="TaskstatsJson.WriteFields"/>: one record's fields (v16: 72 fields) into a reused writer, with the
/// writer options the JSON Lines sink uses (relaxed escaping), and also without the writer's validation.
/// </summary>
[MemoryDiagnoser]
public class JsonBenchmarks
{
    [Params(false, true)]
    public bool SkipValidation { get; set; }

    private const int PerInvoke = 256;

    private TaskStats[] _records = null!;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private Utf8JsonWriter _writer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _records = ExitCorpus.FromFixture(PerInvoke).DecodeBatches(PerInvoke)[0].Select(m => m.Task!.Value.Stats).ToArray();
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions
        {
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            SkipValidation = SkipValidation,
        });
    }

    [Benchmark(OperationsPerInvoke = PerInvoke)]
    public long WriteFields()
    {
        long bytes = 0;
        foreach (var record in _records)
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            _writer.WriteStartObject();
            TaskstatsJson.WriteFields(_writer, record);
            _writer.WriteEndObject();
            _writer.Flush();
            bytes += _buffer.WrittenCount;
        }
        return bytes;
    }
}
