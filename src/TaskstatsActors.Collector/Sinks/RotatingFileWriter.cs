namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// An append-only file that is rotated by size: when the next write would take the file past
/// <see cref="RotateSize"/>, <c>name</c> becomes <c>name.1</c>, <c>name.1</c> becomes <c>name.2</c>, … and
/// the oldest beyond <see cref="Keep"/> is deleted, as logrotate numbers them. A write is never split
/// across files, so a file boundary always falls between whole lines (or whole records).
/// </summary>
/// <remarks>
/// The file is opened for appending, never truncated: a sink that restarts after a failure, or a
/// collector started again with the same path, continues the file instead of destroying what is in it.
/// Writes go through a buffered <see cref="FileStream"/>; <see cref="Flush"/> hands them to the kernel.
/// </remarks>
public sealed class RotatingFileWriter : IDisposable
{
    private const int BufferSize = 64 * 1024;

    private FileStream _stream;
    // Kept here rather than asked of the stream: FileStream.Length is an fstat() per call, and the
    // JSON Lines sink asks before every batch.
    private long _length;

    /// <summary>Opens (creating it and its directory if needed) the file at <paramref name="path"/> for appending.</summary>
    /// <param name="path">The file; relative paths are taken from the working directory.</param>
    /// <param name="rotateSize">Largest size a file may reach before rotation, in bytes; 0 never rotates.</param>
    /// <param name="keep">How many rotated files (<c>.1</c> … <c>.keep</c>) to keep; 0 deletes the file when it is rotated.</param>
    public RotatingFileWriter(string path, long rotateSize = 0, int keep = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfNegative(rotateSize);
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        Path = System.IO.Path.GetFullPath(path);
        RotateSize = rotateSize;
        Keep = keep;
        if (System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } directory)
            Directory.CreateDirectory(directory);
        (_stream, _length) = Open();
    }

    /// <summary>The active file's full path.</summary>
    public string Path { get; }

    /// <summary>Largest size of one file in bytes; 0 means the file is never rotated.</summary>
    public long RotateSize { get; }

    /// <summary>How many rotated files are kept.</summary>
    public int Keep { get; }

    /// <summary>Bytes in the active file, written or still buffered.</summary>
    public long Length => _length;

    /// <summary>How many times the file was rotated since it was opened.</summary>
    public int Rotations { get; private set; }

    /// <summary>The byte that ends the active file (buffered or not), or null when it is empty.</summary>
    public byte? LastByte()
    {
        if (_length == 0)
            return null;
        _stream.Flush();
        using var reader = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        reader.Seek(-1, SeekOrigin.End);
        return (byte)reader.ReadByte();
    }

    /// <summary>
    /// Appends <paramref name="bytes"/> whole, rotating first if they would take a non-empty file past
    /// <see cref="RotateSize"/>. A single write larger than the limit still goes into one file.
    /// </summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (RotateSize > 0 && _length > 0 && _length + bytes.Length > RotateSize)
            Rotate();
        _stream.Write(bytes);
        _length += bytes.Length;
    }

    /// <summary>Hands buffered bytes to the kernel, so a reader of the file sees them.</summary>
    public void Flush() => _stream.Flush();

    /// <summary>Flushes and closes the file.</summary>
    public void Dispose() => _stream.Dispose();

    private (FileStream Stream, long Length) Open()
    {
        // FileShare.Read: tail -f and the tests may read while we write; Delete: logrotate-style tools may move it.
        var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read | FileShare.Delete, BufferSize);
        return (stream, stream.Length);
    }

    private void Rotate()
    {
        _stream.Dispose();
        if (Keep == 0)
        {
            File.Delete(Path);
        }
        else
        {
            File.Delete(Numbered(Keep));
            for (var n = Keep - 1; n >= 1; n--)
                if (File.Exists(Numbered(n)))
                    File.Move(Numbered(n), Numbered(n + 1));
            File.Move(Path, Numbered(1));
        }
        (_stream, _length) = Open();
        Rotations++;
    }

    private string Numbered(int n) => $"{Path}.{n}";
}
