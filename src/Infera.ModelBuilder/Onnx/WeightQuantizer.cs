using Infera.Numerics;

namespace Infera.ModelBuilder;

/// <summary>
/// Quantizes a linear layer's [N, K] weight (PyTorch <c>Linear</c> layout) for <c>MatMulNBits</c> with
/// <see cref="Int4Quantizer"/> / <see cref="Int8Quantizer"/>, symmetrically (no <c>zero_points</c> input, so the
/// operator's default zero point 2^(bits-1) applies), over row chunks in parallel. Rows are independent in the
/// layout, so a chunk of rows is itself a [rows, K] weight whose tensors are the matching slices of the whole.
/// </summary>
internal static class WeightQuantizer
{
    private const int RowsPerChunk = 256;

    public static (byte[] Packed, float[] Scales, MatMulNBitsLayout Layout) Quantize(float[] weights, int n, int k, int bits, int blockSize)
    {
        var layout = new MatMulNBitsLayout(n, k, bits, blockSize);
        if (weights.LongLength != (long)n * k)
        {
            throw new ArgumentException($"Expected {(long)n * k} weights, got {weights.LongLength}.", nameof(weights));
        }

        var packed = new byte[layout.PackedLength];
        var scales = new float[layout.ScaleCount];
        Parallel.For(0, (n + RowsPerChunk - 1) / RowsPerChunk, chunk =>
        {
            int first = chunk * RowsPerChunk;
            int rows = Math.Min(RowsPerChunk, n - first);
            var part = new MatMulNBitsLayout(rows, k, bits, blockSize);
            var source = weights.AsSpan(first * k, part.WeightCount);
            var packedPart = packed.AsSpan(first * layout.PackedRowLength, part.PackedLength);
            var scalesPart = scales.AsSpan(first * layout.BlocksPerRow, part.ScaleCount);
            if (bits == 4)
            {
                Int4Quantizer.QuantizeSymmetric(source, part, packedPart, scalesPart);
            }
            else
            {
                Int8Quantizer.QuantizeSymmetric(source, part, packedPart, scalesPart);
            }
        });
        return (packed, scales, layout);
    }
}
