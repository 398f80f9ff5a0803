using System.Buffers.Binary;

namespace Infera.ModelBuilder;

/// <summary>
/// Block layouts of the ggml tensor types Infera reads (ggml-common.h) and their dequantization to float32, written from
/// ggml-quants.c's <c>dequantize_row_*</c>: the reference every other form of a GGUF weight is checked against.
/// </summary>
internal static class GgufBlocks
{
    /// <summary>The types Infera imports, in the order error messages list them.</summary>
    public static readonly GgufType[] Supported =
    [
        GgufType.F32, GgufType.F16, GgufType.BF16, GgufType.Q8_0, GgufType.Q4_0, GgufType.Q4_1, GgufType.Q5_0, GgufType.Q5_1,
        GgufType.Q4_K, GgufType.Q5_K, GgufType.Q6_K,
    ];

    public static string SupportedList => string.Join(", ", Supported);

    public static bool IsSupported(GgufType type) => Array.IndexOf(Supported, type) >= 0;

    /// <summary>Returns (elements per block, bytes per block), or (0, 0) for a type Infera does not read.</summary>
    public static (int Elements, int Bytes) Block(GgufType type) => type switch
    {
        GgufType.F32 => (1, 4),
        GgufType.F16 or GgufType.BF16 => (1, 2),
        GgufType.Q4_0 => (32, 18),
        GgufType.Q4_1 => (32, 20),
        GgufType.Q5_0 => (32, 22),
        GgufType.Q5_1 => (32, 24),
        GgufType.Q8_0 => (32, 34),
        GgufType.Q4_K => (256, 144),
        GgufType.Q5_K => (256, 176),
        GgufType.Q6_K => (256, 210),
        _ => (0, 0),
    };

    /// <summary>Returns the bytes of one row of <paramref name="rowLength"/> elements; 0 when the type is unsupported or the row is not whole blocks.</summary>
    public static long RowBytes(GgufType type, long rowLength)
    {
        var (elements, bytes) = Block(type);
        if (elements == 0 || rowLength % elements != 0)
        {
            return 0;
        }

        return rowLength / elements * bytes;
    }

    private static float Half(ReadOnlySpan<byte> data, int offset) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(data[offset..]));

    /// <summary>Dequantizes whole blocks of <paramref name="type"/> from <paramref name="data"/> into <paramref name="output"/>.</summary>
    public static void Dequantize(GgufType type, ReadOnlySpan<byte> data, Span<float> output)
    {
        var (elements, bytes) = Block(type);
        int blocks = output.Length / elements;
        switch (type)
        {
            case GgufType.F32:
                for (int i = 0; i < output.Length; i++)
                {
                    output[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(4 * i)..]);
                }

                return;
            case GgufType.F16:
                for (int i = 0; i < output.Length; i++)
                {
                    output[i] = Half(data, 2 * i);
                }

                return;
            case GgufType.BF16:
                for (int i = 0; i < output.Length; i++)
                {
                    output[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]) << 16);
                }

                return;
        }

        for (int b = 0; b < blocks; b++)
        {
            var block = data.Slice(b * bytes, bytes);
            var y = output.Slice(b * elements, elements);
            switch (type)
            {
                case GgufType.Q8_0:
                    {
                        float d = Half(block, 0);
                        for (int j = 0; j < 32; j++)
                        {
                            y[j] = (sbyte)block[2 + j] * d;
                        }

                        break;
                    }

                case GgufType.Q4_0:
                case GgufType.Q4_1:
                    {
                        float d = Half(block, 0);
                        float m = type == GgufType.Q4_1 ? Half(block, 2) : 0f;
                        var qs = block[(type == GgufType.Q4_1 ? 4 : 2)..];
                        int offset = type == GgufType.Q4_1 ? 0 : 8;
                        for (int j = 0; j < 16; j++)
                        {
                            y[j] = (((qs[j] & 0xF) - offset) * d) + m;
                            y[j + 16] = (((qs[j] >> 4) - offset) * d) + m;
                        }

                        break;
                    }

                case GgufType.Q5_0:
                case GgufType.Q5_1:
                    {
                        bool hasMin = type == GgufType.Q5_1;
                        float d = Half(block, 0);
                        float m = hasMin ? Half(block, 2) : 0f;
                        int h = hasMin ? 4 : 2;
                        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(block[h..]);
                        var qs = block[(h + 4)..];
                        int offset = hasMin ? 0 : 16;
                        for (int j = 0; j < 16; j++)
                        {
                            int x0 = (qs[j] & 0xF) | (int)(((qh >> j) & 1) << 4);
                            int x1 = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
                            y[j] = ((x0 - offset) * d) + m;
                            y[j + 16] = ((x1 - offset) * d) + m;
                        }

                        break;
                    }

                case GgufType.Q4_K:
                case GgufType.Q5_K:
                    {
                        bool five = type == GgufType.Q5_K;
                        float d = Half(block, 0);
                        float dmin = Half(block, 2);
                        var scales = block.Slice(4, 12);
                        var qh = five ? block.Slice(16, 32) : default;
                        var qs = block[(five ? 48 : 16)..];
                        for (int c = 0; c < 4; c++)
                        {
                            var (sc0, m0) = ScaleMin(scales, 2 * c);
                            var (sc1, m1) = ScaleMin(scales, (2 * c) + 1);
                            float d0 = d * sc0, min0 = dmin * m0, d1 = d * sc1, min1 = dmin * m1;
                            for (int l = 0; l < 32; l++)
                            {
                                int lo = qs[(32 * c) + l] & 0xF;
                                int hi = qs[(32 * c) + l] >> 4;
                                if (five)
                                {
                                    lo |= ((qh[l] >> (2 * c)) & 1) << 4;
                                    hi |= ((qh[l] >> ((2 * c) + 1)) & 1) << 4;
                                }

                                y[(64 * c) + l] = (d0 * lo) - min0;
                                y[(64 * c) + 32 + l] = (d1 * hi) - min1;
                            }
                        }

                        break;
                    }

                case GgufType.Q6_K:
                    {
                        float d = Half(block, 208);
                        for (int half = 0; half < 2; half++)
                        {
                            var ql = block.Slice(64 * half, 64);
                            var qh = block.Slice(128 + (32 * half), 32);
                            var sc = block.Slice(192 + (8 * half), 8);
                            var yh = y.Slice(128 * half, 128);
                            for (int l = 0; l < 32; l++)
                            {
                                int s = l / 16;
                                int q1 = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32;
                                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                                yh[l] = d * (sbyte)sc[s] * q1;
                                yh[l + 32] = d * (sbyte)sc[s + 2] * q2;
                                yh[l + 64] = d * (sbyte)sc[s + 4] * q3;
                                yh[l + 96] = d * (sbyte)sc[s + 6] * q4;
                            }
                        }

                        break;
                    }

                default:
                    throw new NotSupportedException($"Tensor type {type} is not supported; supported are {SupportedList}.");
            }
        }
    }

    /// <summary>The 6-bit scale and min of sub-block <paramref name="j"/> of a Q4_K/Q5_K block (ggml's <c>get_scale_min_k4</c>).</summary>
    public static (int Scale, int Min) ScaleMin(ReadOnlySpan<byte> s, int j) => j < 4
        ? (s[j] & 63, s[j + 4] & 63)
        : ((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4));
}
