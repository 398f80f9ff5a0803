using System.Buffers.Binary;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Text;

namespace Infera.ModelBuilder;

/// <summary>
/// A GGUF file (version 3; ggml docs/gguf.md): its metadata and tensor directory, read and checked when it is opened, and its
/// tensor data, read from a memory map on demand. Every inconsistency — wrong magic, another version, a truncated header or
/// data, a tensor beyond the end of the file — is a <see cref="ModelConversionException"/> naming the file.
/// </summary>
internal sealed class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747;

    // Bounds against foreign or damaged files: real models stay far below them.
    private const long MaxStringBytes = 1L << 28;
    private const long MaxArrayLength = 1L << 28;
    private const long MaxCount = 1L << 24;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;

    /// <summary>The most bytes of a tensor's data read at a time (<see cref="ForEachSlice"/>).</summary>
    public const int SliceBytes = 16 << 20;

    // Tensor data is read with pread rather than through the mapping: pages read through a mapping stay resident in the
    // process while the file is open (the whole 330 MiB of a Q4_0 file of a 0.5B model by the end of an import).
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _data;

    private GgufFile(string path, long length, int version, Dictionary<string, object> metadata, Dictionary<string, GgufTensorInfo> tensors, MemoryMappedFile map, MemoryMappedViewAccessor view, long metadataEnd)
    {
        MetadataEnd = metadataEnd;
        Path = path;
        Length = length;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        _map = map;
        _view = view;
        _data = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
    }

    public string Path { get; }

    public long Length { get; }

    public int Version { get; }

    /// <summary>Gets the offset where the metadata ends and the tensor directory starts.</summary>
    public long MetadataEnd { get; }

    /// <summary>Gets the metadata: scalars as their .NET type (uint, int, float, bool, string, ulong, …), arrays as <c>object[]</c> or typed arrays.</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    public IReadOnlyDictionary<string, GgufTensorInfo> Tensors { get; }

    public static GgufFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new ModelConversionException($"GGUF file not found: {path}.") { SourcePath = path };
        }

        long length = new FileInfo(path).Length;
        if (length < 24)
        {
            throw Error(path, $"the file is {length} bytes, too short for a GGUF header (truncated or not a GGUF file)");
        }

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            var reader = new Reader(path, view, length);
            uint magic = reader.U32();
            if (magic != Magic)
            {
                throw Error(path, string.Create(CultureInfo.InvariantCulture, $"wrong magic 0x{magic:X8} (expected \"GGUF\"); this is not a GGUF file"));
            }

            int version = (int)reader.U32();
            if (version != 3)
            {
                throw Error(path, $"GGUF version {version} is not supported; only version 3 is (re-convert the model with a current llama.cpp)");
            }

            long tensorCount = reader.Count("tensor count");
            long kvCount = reader.Count("metadata count");
            var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
            for (long i = 0; i < kvCount; i++)
            {
                string key = reader.String();
                uint type = reader.U32();
                metadata[key] = reader.Value(type, key);
            }

            long metadataEnd = reader.Position;
            long alignment = metadata.TryGetValue("general.alignment", out var a) ? Convert.ToInt64(a, CultureInfo.InvariantCulture) : 32;
            if (alignment <= 0 || alignment % 8 != 0)
            {
                throw Error(path, $"invalid general.alignment {alignment}");
            }

            var infos = new List<(string Name, long[] Dims, GgufType Type, long Offset)>();
            for (long i = 0; i < tensorCount; i++)
            {
                string name = reader.String();
                uint dims = reader.U32();
                if (dims is 0 or > 4)
                {
                    throw Error(path, $"tensor {name} has {dims} dimensions (1 to 4 allowed)");
                }

                var shape = new long[dims];
                for (int d = 0; d < dims; d++)
                {
                    ulong value = reader.U64();
                    if (value == 0 || value > int.MaxValue)
                    {
                        throw Error(path, $"tensor {name} has an invalid dimension {value}");
                    }

                    shape[d] = (long)value;
                }

                var type = (GgufType)reader.U32();
                ulong offset = reader.U64();
                if (offset > (ulong)length)
                {
                    throw Error(path, $"tensor {name} starts beyond the end of the file (truncated)");
                }

                infos.Add((name, shape, type, (long)offset));
            }

            long dataStart = (reader.Position + alignment - 1) / alignment * alignment;
            var tensors = new Dictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
            foreach (var (name, dims, type, offset) in infos)
            {
                var info = new GgufTensorInfo(name, dims, type, dataStart + offset);
                if (GgufBlocks.IsSupported(type))
                {
                    if (info.ByteCount == 0)
                    {
                        throw Error(path, $"tensor {name} has {info.RowLength} elements per row, not a whole number of {type} blocks");
                    }

                    if (info.FileOffset + info.ByteCount > length)
                    {
                        throw Error(path, string.Create(CultureInfo.InvariantCulture, $"the file is truncated: tensor {name} needs bytes up to {info.FileOffset + info.ByteCount}, the file has {length}"));
                    }
                }

                tensors[name] = info;
            }

            return new GgufFile(path, length, version, metadata, tensors, map, view, metadataEnd);
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    internal static ModelConversionException Error(string path, string message) => new($"{path}: {message}.") { SourcePath = path };

    /// <summary>Gets a metadata value, or <see langword="null"/> when absent.</summary>
    public object? Get(string key) => Metadata.TryGetValue(key, out var v) ? v : null;

    public string? GetString(string key) => Get(key) as string;

    public long? GetInteger(string key) => Get(key) switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        ulong v => (long)v,
        long v => v,
        _ => null,
    };

    public double? GetNumber(string key) => Get(key) switch
    {
        float v => v,
        double v => v,
        _ => GetInteger(key),
    };

    public bool? GetBool(string key) => Get(key) as bool?;

    /// <summary>Reads a tensor's raw bytes.</summary>
    public byte[] ReadBytes(GgufTensorInfo tensor)
    {
        if (tensor.ByteCount > Array.MaxLength)
        {
            throw Error(Path, $"tensor {tensor.Name} is too large to read at once");
        }

        var bytes = new byte[tensor.ByteCount];
        ReadBytes(tensor, 0, bytes);
        return bytes;
    }

    /// <summary>Reads <paramref name="destination"/>.Length bytes of a tensor's data from <paramref name="offset"/> (in bytes from its start) on.</summary>
    public void ReadBytes(GgufTensorInfo tensor, long offset, Span<byte> destination)
    {
        if (offset < 0 || offset + destination.Length > tensor.ByteCount)
        {
            throw new ArgumentOutOfRangeException(nameof(offset));
        }

        long position = tensor.FileOffset + offset;
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(_data, destination, position);
            if (n <= 0)
            {
                throw Error(Path, $"the file ends inside tensor {tensor.Name} (truncated)");
            }

            destination = destination[n..];
            position += n;
        }
    }

    /// <summary>Reads a tensor and dequantizes it to float32, in ggml order (innermost dimension contiguous).</summary>
    public float[] ReadFloat(GgufTensorInfo tensor)
    {
        if (tensor.ElementCount > Array.MaxLength)
        {
            throw Error(Path, $"tensor {tensor.Name} is too large to read at once");
        }

        var result = new float[tensor.ElementCount];
        ReadFloatRows(tensor, 0, (int)tensor.Rows, result);
        return result;
    }

    /// <summary>
    /// Reads rows <paramref name="firstRow"/> to <paramref name="firstRow"/> + <paramref name="rowCount"/> of a tensor
    /// (a row: its innermost dimension) dequantized to float32 into <paramref name="destination"/>, reading at most 16 MiB
    /// of the file at a time (<paramref name="sliceBytes"/>).
    /// </summary>
    public void ReadFloatRows(GgufTensorInfo tensor, long firstRow, int rowCount, Memory<float> destination, int sliceBytes = SliceBytes)
    {
        if (!GgufBlocks.IsSupported(tensor.Type))
        {
            throw UnsupportedType(tensor);
        }

        int rowLength = (int)tensor.RowLength;
        if (firstRow < 0 || rowCount < 0 || firstRow + rowCount > tensor.Rows || destination.Length != (long)rowCount * rowLength)
        {
            throw new ArgumentOutOfRangeException(nameof(rowCount));
        }

        int rowBytes = checked((int)GgufBlocks.RowBytes(tensor.Type, tensor.RowLength));
        ForEachSlice(tensor, firstRow, rowCount, rowBytes, Math.Max(1, 65536 / rowLength), sliceBytes, (bytes, row) =>
            GgufBlocks.Dequantize(tensor.Type, bytes.Span, destination.Span.Slice(row * rowLength, bytes.Length / rowBytes * rowLength)));
    }

    /// <summary>
    /// Reads <paramref name="unitCount"/> units of <paramref name="unitBytes"/> each (rows, or blocks) of a tensor's data
    /// from unit <paramref name="firstUnit"/> on, at most <paramref name="sliceBytes"/> at a time, and hands each slice to
    /// <paramref name="convert"/> in parallel runs of up to <paramref name="unitsPerTask"/> units, with the index of the
    /// run's first unit counted from <paramref name="firstUnit"/>. The bytes of a large tensor are never held whole.
    /// </summary>
    public void ForEachSlice(GgufTensorInfo tensor, long firstUnit, long unitCount, int unitBytes, int unitsPerTask, int sliceBytes, Action<ReadOnlyMemory<byte>, int> convert)
    {
        int unitsPerSlice = (int)Math.Clamp(sliceBytes / unitBytes, 1, Math.Max(1, unitCount));
        var buffer = new byte[(long)unitsPerSlice * unitBytes];
        for (long done = 0; done < unitCount; done += unitsPerSlice)
        {
            int count = (int)Math.Min(unitsPerSlice, unitCount - done);
            ReadBytes(tensor, (firstUnit + done) * unitBytes, buffer.AsSpan(0, count * unitBytes));
            int start = (int)done;
            Parallel.For(0, (count + unitsPerTask - 1) / unitsPerTask, task =>
            {
                int local = task * unitsPerTask;
                convert(buffer.AsMemory(local * unitBytes, Math.Min(unitsPerTask, count - local) * unitBytes), start + local);
            });
        }
    }

    public ModelConversionException UnsupportedType(GgufTensorInfo tensor) =>
        Error(Path, $"tensor {tensor.Name} has type {TypeName(tensor.Type)}, which Infera cannot import; supported types are {GgufBlocks.SupportedList}");

    public static string TypeName(GgufType type) => Enum.IsDefined(type) ? type.ToString() : string.Create(CultureInfo.InvariantCulture, $"{(int)type} (unknown)");

    public void Dispose()
    {
        _data.Dispose();
        _view.Dispose();
        _map.Dispose();
    }

    /// <summary>A bounds-checked little-endian reader over the mapped file.</summary>
    private sealed class Reader(string path, MemoryMappedViewAccessor view, long length)
    {
        public long Position { get; private set; }

        private void Need(long bytes)
        {
            if (bytes < 0 || Position + bytes > length)
            {
                throw Error(path, "the file is truncated inside its header");
            }
        }

        public uint U32()
        {
            Need(4);
            uint v = view.ReadUInt32(Position);
            Position += 4;
            return v;
        }

        public ulong U64()
        {
            Need(8);
            ulong v = view.ReadUInt64(Position);
            Position += 8;
            return v;
        }

        public long Count(string what)
        {
            ulong v = U64();
            if (v > MaxCount)
            {
                throw Error(path, $"implausible {what} {v}; the header is damaged");
            }

            return (long)v;
        }

        public string String()
        {
            ulong n = U64();
            if (n > MaxStringBytes)
            {
                throw Error(path, $"implausible string length {n}; the header is damaged");
            }

            Need((long)n);
            var bytes = new byte[n];
            view.ReadArray(Position, bytes, 0, bytes.Length);
            Position += (long)n;
            return Encoding.UTF8.GetString(bytes);
        }

        public object Value(uint type, string key)
        {
            switch (type)
            {
                case 0: Need(1); return view.ReadByte(Position++);
                case 1: Need(1); return view.ReadSByte(Position++);
                case 2: Need(2); Position += 2; return view.ReadUInt16(Position - 2);
                case 3: Need(2); Position += 2; return view.ReadInt16(Position - 2);
                case 4: return U32();
                case 5: return (int)U32();
                case 6: Need(4); Position += 4; return view.ReadSingle(Position - 4);
                case 7: Need(1); return view.ReadByte(Position++) != 0;
                case 8: return String();
                case 10: return U64();
                case 11: return (long)U64();
                case 12: Need(8); Position += 8; return view.ReadDouble(Position - 8);
                case 9:
                    {
                        uint elementType = U32();
                        ulong n = U64();
                        if (n > MaxArrayLength)
                        {
                            throw Error(path, $"metadata {key}: implausible array length {n}");
                        }

                        switch (elementType)
                        {
                            case 4:
                            case 5:
                            case 6:
                                {
                                    Need((long)n * 4);
                                    var raw = new byte[n * 4];
                                    view.ReadArray(Position, raw, 0, raw.Length);
                                    Position += raw.Length;
                                    if (elementType == 6)
                                    {
                                        var floats = new float[n];
                                        for (int i = 0; i < floats.Length; i++)
                                        {
                                            floats[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(4 * i));
                                        }

                                        return floats;
                                    }

                                    var ints = new int[n];
                                    for (int i = 0; i < ints.Length; i++)
                                    {
                                        ints[i] = BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(4 * i));
                                    }

                                    return ints;
                                }

                            case 8:
                                {
                                    var strings = new string[n];
                                    for (long i = 0; i < (long)n; i++)
                                    {
                                        strings[i] = String();
                                    }

                                    return strings;
                                }

                            default:
                                {
                                    var items = new object[n];
                                    for (long i = 0; i < (long)n; i++)
                                    {
                                        items[i] = Value(elementType, key);
                                    }

                                    return items;
                                }
                        }
                    }

                default:
                    throw Error(path, $"metadata {key} has unknown value type {type}; the header is damaged");
            }
        }
    }
}
