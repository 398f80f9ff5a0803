using System.Buffers.Binary;
using Infera.Numerics;

namespace Infera.ModelBuilder;

/// <summary>
/// Maps GGUF quantized rows onto <c>MatMulNBits</c> codes (default zero point 2^(bits-1), no zero-point input).
/// <list type="bullet">
/// <item>Q4_0 → 4 bits, block 32, scale d: exact (only the nibble order changes: ggml pairs elements j and j+16, MatMulNBits 2i and 2i+1).</item>
/// <item>Q8_0 → 8 bits, block 32, code q+128, scale d: exact.</item>
/// <item>Q5_0 → 8 bits, block 32, code q+112, scale d: exact.</item>
/// <item>Q6_K → 8 bits, block 16, code q+96, scale d·scale (a float16 times an int8 is exact in float32): exact.</item>
/// <item>Q4_1, Q5_1, Q4_K, Q5_K (an offset per block) → dequantized exactly to float32, then 8 bits, block 32, symmetric: near-exact.</item>
/// </list>
/// </summary>
internal static class GgufCodes
{
    /// <summary>Returns the <c>MatMulNBits</c> form of a [rows, rowLength] tensor, or <see langword="null"/> for float types.</summary>
    /// <param name="file">The file.</param>
    /// <param name="tensor">The tensor.</param>
    /// <param name="sliceBytes">The most bytes of the tensor's data read at a time.</param>
    public static QuantizedMatrix? From(GgufFile file, GgufTensorInfo tensor, int sliceBytes = GgufFile.SliceBytes)
    {
        int n = (int)tensor.Rows, k = (int)tensor.RowLength;
        switch (tensor.Type)
        {
            case GgufType.F32:
            case GgufType.F16:
            case GgufType.BF16:
                return null;
            case GgufType.Q4_0:
                return Q4_0(file, tensor, n, k, sliceBytes);
            case GgufType.Q8_0:
            case GgufType.Q5_0:
            case GgufType.Q6_K:
                return Eight(file, tensor, n, k, sliceBytes);
            default:
                {
                    var floats = file.ReadFloat(tensor);
                    var (packed, scales, layout) = WeightQuantizer.Quantize(floats, n, k, 8, 32);
                    return new QuantizedMatrix(packed, scales, layout, Exact: false);
                }
        }
    }

    private static float Half(ReadOnlySpan<byte> data) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(data));

    private static QuantizedMatrix Q4_0(GgufFile file, GgufTensorInfo tensor, int n, int k, int sliceBytes)
    {
        var layout = new MatMulNBitsLayout(n, k, 4, 32);
        var packed = new byte[layout.PackedLength];
        var scales = new float[layout.ScaleCount];
        file.ForEachSlice(tensor, 0, layout.ScaleCount, 18, 4096, sliceBytes, (data, firstBlock) =>
        {
            int end = firstBlock + (data.Length / 18);
            for (int b = firstBlock; b < end; b++)
            {
                var block = data.Span.Slice((b - firstBlock) * 18, 18);
                scales[b] = Half(block);
                var qs = block[2..];
                var blob = packed.AsSpan(b * 16, 16);
                for (int i = 0; i < 16; i++)
                {
                    int e0 = 2 * i, e1 = e0 + 1;
                    int lo = e0 < 16 ? qs[e0] & 0xF : qs[e0 - 16] >> 4;
                    int hi = e1 < 16 ? qs[e1] & 0xF : qs[e1 - 16] >> 4;
                    blob[i] = (byte)(lo | (hi << 4));
                }
            }
        });
        return new QuantizedMatrix(packed, scales, layout, Exact: true);
    }

    private static QuantizedMatrix Eight(GgufFile file, GgufTensorInfo tensor, int n, int k, int sliceBytes)
    {
        var type = tensor.Type;
        int blockSize = type == GgufType.Q6_K ? 16 : 32;
        var layout = new MatMulNBitsLayout(n, k, 8, blockSize);
        var packed = new byte[layout.PackedLength];
        var scales = new float[layout.ScaleCount];
        var (elements, bytes) = GgufBlocks.Block(type);
        file.ForEachSlice(tensor, 0, tensor.ByteCount / bytes, bytes, 1024, sliceBytes, (data, firstBlock) =>
        {
            int end = firstBlock + (data.Length / bytes);
            for (int b = firstBlock; b < end; b++)
            {
                var block = data.Span.Slice((b - firstBlock) * bytes, bytes);
                var codes = packed.AsSpan(b * elements, elements);
                switch (type)
                {
                    case GgufType.Q8_0:
                        scales[b] = Half(block);
                        for (int j = 0; j < 32; j++)
                        {
                            codes[j] = (byte)((sbyte)block[2 + j] + 128);
                        }

                        break;
                    case GgufType.Q5_0:
                        {
                            scales[b] = Half(block);
                            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(block[2..]);
                            var qs = block[6..];
                            for (int j = 0; j < 16; j++)
                            {
                                codes[j] = (byte)((qs[j] & 0xF) + (int)(((qh >> j) & 1) << 4) + 112);
                                codes[j + 16] = (byte)((qs[j] >> 4) + (int)(((qh >> (j + 16)) & 1) << 4) + 112);
                            }

                            break;
                        }

                    default:
                        {
                            // Q6_K: 16 sub-blocks of 16; element e of half h has sub-block 8h + (e mod 128) / 16.
                            float d = Half(block[208..]);
                            for (int s = 0; s < 16; s++)
                            {
                                scales[(b * 16) + s] = d * (sbyte)block[192 + s];
                            }

                            for (int half = 0; half < 2; half++)
                            {
                                var ql = block.Slice(64 * half, 64);
                                var qh = block.Slice(128 + (32 * half), 32);
                                var y = codes.Slice(128 * half, 128);
                                for (int l = 0; l < 32; l++)
                                {
                                    y[l] = (byte)(((ql[l] & 0xF) | ((qh[l] & 3) << 4)) + 96);
                                    y[l + 32] = (byte)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) + 96);
                                    y[l + 64] = (byte)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) + 96);
                                    y[l + 96] = (byte)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) + 96);
                                }
                            }

                            break;
                        }
                }
            }
        });
        return new QuantizedMatrix(packed, scales, layout, Exact: true);
    }
}
