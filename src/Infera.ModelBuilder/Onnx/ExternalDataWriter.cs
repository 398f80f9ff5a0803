namespace Infera.ModelBuilder;

/// <summary>Appends tensor bytes to the model's external data file (<c>model.onnx.data</c>), each aligned so ONNX Runtime can map it.</summary>
internal sealed class ExternalDataWriter : IDisposable
{
    private const int Alignment = 64;
    private readonly FileStream _stream;

    public ExternalDataWriter(string path)
    {
        Path = path;
        FileName = System.IO.Path.GetFileName(path);
        _stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
    }

    public string Path { get; }

    public string FileName { get; }

    public long Length => _stream.Length;

    /// <summary>Writes <paramref name="data"/> and returns its offset in the file.</summary>
    public long Append(ReadOnlySpan<byte> data)
    {
        long offset = _stream.Position;
        long aligned = (offset + Alignment - 1) / Alignment * Alignment;
        if (aligned != offset)
        {
            Span<byte> zeros = stackalloc byte[Alignment];
            zeros.Clear();
            _stream.Write(zeros[..(int)(aligned - offset)]);
        }

        _stream.Write(data);
        return aligned;
    }

    public void Flush() => _stream.Flush(flushToDisk: true);

    public void Dispose() => _stream.Dispose();
}
