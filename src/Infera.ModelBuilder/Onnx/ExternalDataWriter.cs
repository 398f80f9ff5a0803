namespace Infera.ModelBuilder;

/// <summary>Appends tensor bytes to the model's external data file (<c>model.onnx.data</c>), each aligned so ONNX Runtime can map it.</summary>
/// <remarks>
/// ONNX Runtime maps a tensor of external data into memory instead of reading it into a buffer when its offset is a
/// multiple of the system's allocation granularity (the page size on Linux, 64 KiB on Windows). Mapped pages count as
/// memory only once read and are released with the tensor: a weight prepacked at load time is unmapped afterwards, and
/// an embedding table read by a gather only holds the rows the prompts used. Large tensors are therefore aligned to
/// 64 KiB, small ones (norms, biases) to 64 bytes.
/// </remarks>
internal sealed class ExternalDataWriter : IDisposable
{
    private const int Alignment = 64;
    private const int MappedAlignment = 1 << 16;
    private const int MappedSize = 1 << 20;
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
        int alignment = data.Length >= MappedSize ? MappedAlignment : Alignment;
        long aligned = (offset + alignment - 1) / alignment * alignment;
        if (aligned != offset)
        {
            _stream.Write(new byte[aligned - offset]);
        }

        _stream.Write(data);
        return aligned;
    }

    public void Flush() => _stream.Flush(flushToDisk: true);

    public void Dispose() => _stream.Dispose();
}
