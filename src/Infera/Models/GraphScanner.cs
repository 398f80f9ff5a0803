using System.Text;

namespace Infera;

/// <summary>Finds operator names in an ONNX graph file without parsing it: operator types are stored as plain strings.</summary>
internal static class GraphScanner
{
    private const int ChunkSize = 1 << 20;

    /// <summary>Returns, for each of <paramref name="names"/>, whether it occurs in the file.</summary>
    public static bool[] FindAll(string path, ReadOnlySpan<string> names)
    {
        var found = new bool[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            found[i] = FindFirst(path, [names[i]]) is not null;
        }

        return found;
    }

    /// <summary>Returns the first of <paramref name="names"/> (in their order of preference) that occurs in the file, or <see langword="null"/>.</summary>
    public static string? FindFirst(string path, ReadOnlySpan<string> names)
    {
        var patterns = new byte[names.Length][];
        var longest = 0;
        for (var i = 0; i < names.Length; i++)
        {
            patterns[i] = Encoding.ASCII.GetBytes(names[i]);
            longest = Math.Max(longest, patterns[i].Length);
        }

        var found = new bool[names.Length];
        var buffer = new byte[ChunkSize + longest];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var carried = 0;
        int read;
        while ((read = stream.Read(buffer, carried, ChunkSize)) > 0)
        {
            var window = buffer.AsSpan(0, carried + read);
            for (var i = 0; i < patterns.Length; i++)
            {
                if (!found[i] && window.IndexOf(patterns[i]) >= 0)
                {
                    found[i] = true;
                    if (i == 0)
                    {
                        return names[0];
                    }
                }
            }

            carried = Math.Min(longest - 1, window.Length);
            window[^carried..].CopyTo(buffer);
        }

        for (var i = 0; i < names.Length; i++)
        {
            if (found[i])
            {
                return names[i];
            }
        }

        return null;
    }
}

/// <summary>Reads the declared shape of a graph output from an ONNX file, skipping everything else (initializers included) without loading it.</summary>
internal static class GraphOutputShape
{
    // Field numbers of onnx.proto: ModelProto.graph 7; GraphProto.output 12; ValueInfoProto.name 1, .type 2;
    // TypeProto.tensor_type 1; TypeProto.Tensor.shape 2; TensorShapeProto.dim 1; Dimension.dim_value 1, .dim_param 2.
    private const int ModelGraph = 7, GraphOutput = 12;

    /// <summary>
    /// Returns the dimensions of output <paramref name="name"/>: a number where the graph fixes it, <see langword="null"/>
    /// where it is symbolic; <see langword="null"/> altogether when the file has no such output or cannot be read as ONNX.
    /// </summary>
    public static long?[]? Read(string path, string name)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            long end = stream.Length;
            while (stream.Position < end)
            {
                var (field, wire) = ReadTag(stream);
                if (field == ModelGraph && wire == 2)
                {
                    long length = (long)ReadVarint(stream);
                    return ReadGraph(stream, stream.Position + length, name);
                }

                Skip(stream, wire);
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static long?[]? ReadGraph(Stream stream, long end, string name)
    {
        while (stream.Position < end)
        {
            var (field, wire) = ReadTag(stream);
            if (field == GraphOutput && wire == 2)
            {
                long length = (long)ReadVarint(stream);
                var buffer = new byte[length];
                stream.ReadExactly(buffer);
                var (outputName, dims) = ParseValueInfo(buffer);
                if (outputName == name)
                {
                    return dims;
                }

                continue;
            }

            Skip(stream, wire);
        }

        return null;
    }

    private static (string? Name, long?[] Dims) ParseValueInfo(byte[] data)
    {
        string? name = null;
        var dims = new List<long?>();
        foreach (var (field, value) in Fields(data))
        {
            if (field == 1)
            {
                name = System.Text.Encoding.UTF8.GetString(value);
            }
            else if (field == 2)
            {
                foreach (var tensor in Fields(value).Where(f => f.Field == 1).Select(f => f.Value))
                {
                    foreach (var shape in Fields(tensor).Where(f => f.Field == 2).Select(f => f.Value))
                    {
                        foreach (var dim in Fields(shape).Where(f => f.Field == 1).Select(f => f.Value))
                        {
                            long? size = null;
                            using var reader = new MemoryStream(dim);
                            while (reader.Position < reader.Length)
                            {
                                var (f, wire) = ReadTag(reader);
                                if (f == 1 && wire == 0)
                                {
                                    size = (long)ReadVarint(reader);
                                }
                                else
                                {
                                    Skip(reader, wire);
                                }
                            }

                            dims.Add(size);
                        }
                    }
                }
            }
        }

        return (name, [.. dims]);
    }

    /// <summary>The length-delimited fields of a message.</summary>
    private static List<(int Field, byte[] Value)> Fields(byte[] message)
    {
        var result = new List<(int, byte[])>();
        using var reader = new MemoryStream(message);
        while (reader.Position < reader.Length)
        {
            var (field, wire) = ReadTag(reader);
            if (wire == 2)
            {
                var value = new byte[(int)ReadVarint(reader)];
                reader.ReadExactly(value);
                result.Add((field, value));
            }
            else
            {
                Skip(reader, wire);
            }
        }

        return result;
    }

    private static (int Field, int Wire) ReadTag(Stream stream)
    {
        ulong tag = ReadVarint(stream);
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    private static ulong ReadVarint(Stream stream)
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            int b = stream.ReadByte();
            if (b < 0)
            {
                throw new InvalidDataException("Truncated varint.");
            }

            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw new InvalidDataException("Varint too long.");
    }

    private static void Skip(Stream stream, int wire)
    {
        switch (wire)
        {
            case 0:
                ReadVarint(stream);
                break;
            case 1:
                stream.Seek(8, SeekOrigin.Current);
                break;
            case 2:
                stream.Seek((long)ReadVarint(stream), SeekOrigin.Current);
                break;
            case 5:
                stream.Seek(4, SeekOrigin.Current);
                break;
            default:
                throw new InvalidDataException($"Unsupported wire type {wire}.");
        }
    }
}
