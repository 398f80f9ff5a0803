using System.Text;

namespace Infera.ModelBuilder.Tests;

/// <summary>A small GGUF v3 writer (float32 tensors), from ggml's docs/gguf.md, for synthetic models and damaged files in tests.</summary>
internal sealed class GgufTestWriter
{
    private readonly List<(string Key, Action<BinaryWriter> Write)> _metadata = [];
    private readonly List<(string Name, long[] Dims, float[] Data)> _tensors = [];
    private readonly Dictionary<string, uint> _types = [];

    public int Version { get; set; } = 3;

    public GgufTestWriter String(string key, string value) => Add(key, w => { w.Write(8u); Str(w, value); });

    public GgufTestWriter U32(string key, uint value) => Add(key, w => { w.Write(4u); w.Write(value); });

    public GgufTestWriter F32(string key, float value) => Add(key, w => { w.Write(6u); w.Write(value); });

    public GgufTestWriter Bool(string key, bool value) => Add(key, w => { w.Write(7u); w.Write((byte)(value ? 1 : 0)); });

    public GgufTestWriter Strings(string key, IReadOnlyList<string> values) => Add(key, w =>
    {
        w.Write(9u);
        w.Write(8u);
        w.Write((ulong)values.Count);
        foreach (var v in values)
        {
            Str(w, v);
        }
    });

    public GgufTestWriter Floats(string key, IReadOnlyList<float> values) => Add(key, w =>
    {
        w.Write(9u);
        w.Write(6u);
        w.Write((ulong)values.Count);
        foreach (var v in values)
        {
            w.Write(v);
        }
    });

    public GgufTestWriter Ints(string key, IReadOnlyList<int> values) => Add(key, w =>
    {
        w.Write(9u);
        w.Write(5u);
        w.Write((ulong)values.Count);
        foreach (var v in values)
        {
            w.Write(v);
        }
    });

    /// <summary>Adds a tensor given in row-major PyTorch shape (outermost first); GGUF stores the dimensions reversed.</summary>
    public GgufTestWriter Tensor(string name, float[] data, params long[] torchShape)
    {
        _tensors.Add((name, torchShape.Reverse().ToArray(), data));
        return this;
    }

    public GgufTestWriter RemoveTensor(string name)
    {
        _tensors.RemoveAll(t => t.Name == name);
        return this;
    }

    /// <summary>Declares another ggml type id for a tensor (its float32 bytes stay): for files of unsupported types.</summary>
    public GgufTestWriter TensorType(string name, uint type)
    {
        _types[name] = type;
        return this;
    }

    public void Write(string path)
    {
        using var stream = File.Create(path);
        using var w = new BinaryWriter(stream, Encoding.UTF8);
        w.Write(Encoding.ASCII.GetBytes("GGUF"));
        w.Write((uint)Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, write) in _metadata)
        {
            Str(w, key);
            write(w);
        }

        long offset = 0;
        foreach (var (name, dims, data) in _tensors)
        {
            Str(w, name);
            w.Write((uint)dims.Length);
            foreach (long d in dims)
            {
                w.Write((ulong)d);
            }

            w.Write(_types.GetValueOrDefault(name));
            w.Write((ulong)offset);
            offset += Align(data.Length * 4L);
        }

        Pad(w);
        foreach (var (_, _, data) in _tensors)
        {
            foreach (float f in data)
            {
                w.Write(f);
            }

            Pad(w);
        }
    }

    private static long Align(long n) => (n + 31) / 32 * 32;

    private static void Pad(BinaryWriter w)
    {
        while (w.BaseStream.Position % 32 != 0)
        {
            w.Write((byte)0);
        }
    }

    private static void Str(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private GgufTestWriter Add(string key, Action<BinaryWriter> write)
    {
        _metadata.RemoveAll(m => m.Key == key);
        _metadata.Add((key, write));
        return this;
    }
}
