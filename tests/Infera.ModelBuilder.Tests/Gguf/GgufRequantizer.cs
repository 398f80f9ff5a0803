using System.Text;

namespace Infera.ModelBuilder.Tests;

/// <summary>
/// Rewrites a float GGUF with other tensor types using ggml's reference quantizers (<c>quantize_row_q8_0_ref</c>,
/// <c>quantize_row_q4_0_ref</c>), for files llama.cpp's own quantizer refuses (stories260K's feed-forward width 172 is not
/// a multiple of 32: those rows stay F16, as llama.cpp's fallback does for K-quants). llama.cpp then loads the file as the reference.
/// </summary>
internal static class GgufRequantizer
{
    public static void Write(string source, string destination, GgufType type)
    {
        using var file = GgufFile.Open(source);
        var header = new byte[file.MetadataEnd];
        using (var input = File.OpenRead(source))
        {
            input.ReadExactly(header);
        }

        var tensors = file.Tensors.Values.OrderBy(t => t.FileOffset).ToList();
        var data = new List<(GgufTensorInfo Tensor, GgufType Type, byte[] Bytes)>();
        foreach (var t in tensors)
        {
            var values = file.ReadFloat(t);
            var target = t.Dimensions.Length == 1 ? GgufType.F32 : t.RowLength % 32 == 0 ? type : GgufType.F16;
            data.Add((t, target, Encode(values, target)));
        }

        using var stream = File.Create(destination);
        using var w = new BinaryWriter(stream, Encoding.UTF8);
        w.Write(header);
        long offset = 0;
        foreach (var (t, target, bytes) in data)
        {
            var name = Encoding.UTF8.GetBytes(t.Name);
            w.Write((ulong)name.Length);
            w.Write(name);
            w.Write((uint)t.Dimensions.Length);
            foreach (long d in t.Dimensions)
            {
                w.Write((ulong)d);
            }

            w.Write((uint)target);
            w.Write((ulong)offset);
            offset += (bytes.Length + 31) / 32 * 32;
        }

        Pad(w);
        foreach (var (_, _, bytes) in data)
        {
            w.Write(bytes);
            Pad(w);
        }
    }

    private static void Pad(BinaryWriter w)
    {
        while (w.BaseStream.Position % 32 != 0)
        {
            w.Write((byte)0);
        }
    }

    private static byte[] Encode(float[] x, GgufType type)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        switch (type)
        {
            case GgufType.F32:
                foreach (float v in x)
                {
                    w.Write(v);
                }

                break;
            case GgufType.F16:
                foreach (float v in x)
                {
                    w.Write((Half)v);
                }

                break;
            case GgufType.Q8_0:
                for (int b = 0; b < x.Length; b += 32)
                {
                    float amax = 0;
                    for (int j = 0; j < 32; j++)
                    {
                        amax = Math.Max(amax, Math.Abs(x[b + j]));
                    }

                    float d = amax / 127f;
                    float id = d != 0 ? 1f / d : 0f;
                    w.Write((Half)d);
                    for (int j = 0; j < 32; j++)
                    {
                        w.Write((sbyte)MathF.Round(x[b + j] * id, MidpointRounding.AwayFromZero));
                    }
                }

                break;
            case GgufType.Q4_0:
                for (int b = 0; b < x.Length; b += 32)
                {
                    float amax = 0, max = 0;
                    for (int j = 0; j < 32; j++)
                    {
                        if (amax < Math.Abs(x[b + j]))
                        {
                            amax = Math.Abs(x[b + j]);
                            max = x[b + j];
                        }
                    }

                    float d = max / -8f;
                    float id = d != 0 ? 1f / d : 0f;
                    w.Write((Half)d);
                    for (int j = 0; j < 16; j++)
                    {
                        int x0 = Math.Min(15, (int)(sbyte)(x[b + j] * id + 8.5f));
                        int x1 = Math.Min(15, (int)(sbyte)(x[b + j + 16] * id + 8.5f));
                        w.Write((byte)(x0 | (x1 << 4)));
                    }
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type));
        }

        w.Flush();
        return ms.ToArray();
    }
}
