namespace Infera.ModelBuilder;

/// <summary>
/// Symmetric block quantization of a [N, K] weight (PyTorch <c>Linear</c> layout) into ONNX Runtime's <c>MatMulNBits</c> layout:
/// B is uint8 [N, blocks, blockSize × bits / 8] (4 bits: element 2j in the low nibble, 2j+1 in the high nibble), scales are
/// float [N × blocks], and the implicit zero point is 2^(bits-1). A block's largest-magnitude weight maps exactly onto the
/// most negative code, as llama.cpp's Q4_0 does.
/// </summary>
internal static class BlockQuantizer
{
    public static (byte[] Packed, float[] Scales) Quantize(float[] weights, int n, int k, int bits, int blockSize)
    {
        if (bits is not (4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(bits));
        }

        int blocks = (k + blockSize - 1) / blockSize;
        int blob = blockSize * bits / 8;
        var packed = new byte[(long)n * blocks * blob];
        var scales = new float[(long)n * blocks];
        var packedArray = packed;
        var scalesArray = scales;
        Parallel.For(0, n, row => QuantizeRow(weights.AsSpan((int)((long)row * k), k), packedArray.AsSpan((int)((long)row * blocks * blob), blocks * blob), scalesArray.AsSpan(row * blocks, blocks), bits, blockSize));
        return (packed, scales);
    }

    private static void QuantizeRow(ReadOnlySpan<float> row, Span<byte> packed, Span<float> scales, int bits, int blockSize)
    {
        int blob = blockSize * bits / 8;
        int zero = 1 << (bits - 1);
        int max = (1 << bits) - 1;
        for (int b = 0; b < scales.Length; b++)
        {
            int start = b * blockSize;
            int end = Math.Min(start + blockSize, row.Length);
            float extreme = 0;
            for (int i = start; i < end; i++)
            {
                if (Math.Abs(row[i]) > Math.Abs(extreme))
                {
                    extreme = row[i];
                }
            }

            float scale = extreme / -zero;
            float inverse = scale == 0 ? 0 : 1 / scale;
            scales[b] = scale;
            var dst = packed.Slice(b * blob, blob);
            dst.Fill(bits == 4 ? (byte)0x88 : (byte)0x80);
            for (int i = start; i < end; i++)
            {
                int q = Math.Clamp((int)MathF.Round(row[i] * inverse) + zero, 0, max);
                int j = i - start;
                if (bits == 8)
                {
                    dst[j] = (byte)q;
                }
                else if ((j & 1) == 0)
                {
                    dst[j >> 1] = (byte)((dst[j >> 1] & 0xF0) | q);
                }
                else
                {
                    dst[j >> 1] = (byte)((dst[j >> 1] & 0x0F) | (q << 4));
                }
            }
        }
    }

    /// <summary>Reverses <see cref="Quantize"/> (for tests and tolerances).</summary>
    public static float[] Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, int n, int k, int bits, int blockSize)
    {
        int blocks = (k + blockSize - 1) / blockSize;
        int blob = blockSize * bits / 8;
        int zero = 1 << (bits - 1);
        var result = new float[(long)n * k];
        for (int row = 0; row < n; row++)
        {
            for (int i = 0; i < k; i++)
            {
                int b = i / blockSize, j = i % blockSize;
                byte v = packed[(row * blocks * blob) + (b * blob) + (bits == 8 ? j : j >> 1)];
                int q = bits == 8 ? v : ((j & 1) == 0 ? v & 0x0F : v >> 4);
                result[((long)row * k) + i] = (q - zero) * scales[(row * blocks) + b];
            }
        }

        return result;
    }
}
