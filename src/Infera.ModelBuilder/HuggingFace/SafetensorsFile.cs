using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Infera.ModelBuilder;

/// <summary>Reads tensors from one <c>.safetensors</c> file (F32, F16, BF16) as float32.</summary>
internal sealed class SafetensorsFile : IDisposable
{
    private readonly FileStream _file;
    private readonly long _dataStart;

    private SafetensorsFile(string path, FileStream file, long dataStart, Dictionary<string, SafetensorsEntry> entries)
    {
        Path = path;
        _file = file;
        _dataStart = dataStart;
        Entries = entries;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new ModelConversionException($"Weights file not found: {path}.") { SourcePath = path };
        }

        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        try
        {
            long length = file.Length;
            Span<byte> prefix = stackalloc byte[8];
            if (length < 8 || RandomAccess.Read(file.SafeFileHandle, prefix, 0) != 8)
            {
                throw Error(path, "the file is too short for a safetensors header.");
            }

            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength == 0 || headerLength > 100_000_000 || (long)headerLength > length - 8)
            {
                throw Error(path, $"invalid header length {headerLength}; the file is truncated or not safetensors.");
            }

            var header = new byte[headerLength];
            RandomAccess.Read(file.SafeFileHandle, header, 8);
            var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            long dataStart = 8 + (long)headerLength;
            try
            {
                using var json = JsonDocument.Parse(header);
                foreach (var property in json.RootElement.EnumerateObject())
                {
                    if (property.Name == "__metadata__")
                    {
                        continue;
                    }

                    string dtype = property.Value.GetProperty("dtype").GetString() ?? string.Empty;
                    var shape = property.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                    var offsets = property.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                    entries[property.Name] = new SafetensorsEntry(property.Name, dtype, shape, offsets[0], offsets[1]);
                }
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
            {
                throw new ModelConversionException($"{path}: the safetensors header is not valid JSON of tensors: {e.Message}", e) { SourcePath = path };
            }

            foreach (var entry in entries.Values)
            {
                if (entry.End < entry.Begin || dataStart + entry.End > length)
                {
                    throw Error(path, $"tensor {entry.Name} lies beyond the end of the file; the file is truncated.");
                }
            }

            return new SafetensorsFile(path, file, dataStart, entries);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static ModelConversionException Error(string path, string message) => new($"{path}: {message}") { SourcePath = path };

    public float[] Read(SafetensorsEntry entry)
    {
        long count = CheckedCount(entry);
        var result = new float[count];
        ReadRange(entry, 0, result);
        return result;
    }

    /// <summary>Reads <paramref name="destination"/>.Length elements of <paramref name="entry"/> from element <paramref name="firstElement"/> on, as float32.</summary>
    public void ReadRange(SafetensorsEntry entry, long firstElement, Span<float> destination)
    {
        long count = CheckedCount(entry);
        if (firstElement < 0 || firstElement + destination.Length > count)
        {
            throw new ArgumentOutOfRangeException(nameof(firstElement));
        }

        int elementSize = ElementSize(entry);
        const int Chunk = 1 << 22;
        var buffer = new byte[Math.Min(destination.Length, Chunk) * elementSize];
        for (int done = 0; done < destination.Length; done += Chunk)
        {
            int n = Math.Min(Chunk, destination.Length - done);
            var bytes = buffer.AsSpan(0, n * elementSize);
            ReadExactly(bytes, _dataStart + entry.Begin + ((firstElement + done) * elementSize));
            var part = destination.Slice(done, n);
            switch (entry.DType)
            {
                case "F32":
                    MemoryMarshal.Cast<byte, float>(bytes).CopyTo(part);
                    break;
                case "F16":
                    System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes), part);
                    break;
                default:
                    var raw = MemoryMarshal.Cast<byte, ushort>(bytes);
                    var bits = MemoryMarshal.Cast<float, uint>(part);
                    for (int i = 0; i < n; i++)
                    {
                        bits[i] = (uint)raw[i] << 16;
                    }

                    break;
            }
        }
    }

    private int ElementSize(SafetensorsEntry entry) => entry.DType switch
    {
        "F32" => 4,
        "F16" or "BF16" => 2,
        _ => throw Error(Path, $"tensor {entry.Name} has data type {entry.DType}; supported are F32, F16 and BF16."),
    };

    private long CheckedCount(SafetensorsEntry entry)
    {
        long count = entry.Shape.Aggregate(1L, (a, b) => a * b);
        int elementSize = ElementSize(entry);
        if (entry.End - entry.Begin != count * elementSize)
        {
            throw Error(Path, $"tensor {entry.Name} has {entry.End - entry.Begin} bytes for shape [{string.Join(", ", entry.Shape)}] of {entry.DType}.");
        }

        return count;
    }

    private void ReadExactly(Span<byte> destination, long offset)
    {
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(_file.SafeFileHandle, destination, offset);
            if (n <= 0)
            {
                throw Error(Path, "unexpected end of file.");
            }

            destination = destination[n..];
            offset += n;
        }
    }

    public void Dispose() => _file.Dispose();
}
