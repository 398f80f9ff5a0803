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
        Quantize(weights, n, k, bits, blockSize, packed, scales);
        return (packed, scales, layout);
    }

    /// <summary>Quantizes the [<paramref name="n"/>, <paramref name="k"/>] weight <paramref name="weights"/> into <paramref name="packed"/> and <paramref name="scales"/>, which hold exactly its codes and scales.</summary>
    public static void Quantize(ReadOnlyMemory<float> weights, int n, int k, int bits, int blockSize, Memory<byte> packed, Memory<float> scales)
    {
        var layout = new MatMulNBitsLayout(n, k, bits, blockSize);
        if (weights.Length != (long)n * k || packed.Length != layout.PackedLength || scales.Length != layout.ScaleCount)
        {
            throw new ArgumentException($"Expected {(long)n * k} weights, {layout.PackedLength} code bytes and {layout.ScaleCount} scales.", nameof(weights));
        }

        Parallel.For(0, (n + RowsPerChunk - 1) / RowsPerChunk, chunk =>
        {
            int first = chunk * RowsPerChunk;
            int rows = Math.Min(RowsPerChunk, n - first);
            var part = new MatMulNBitsLayout(rows, k, bits, blockSize);
            var source = weights.Span.Slice(first * k, part.WeightCount);
            var packedPart = packed.Span.Slice(first * layout.PackedRowLength, part.PackedLength);
            var scalesPart = scales.Span.Slice(first * layout.BlocksPerRow, part.ScaleCount);
            if (bits == 4)
            {
                Int4Quantizer.QuantizeSymmetric(source, part, packedPart, scalesPart);
            }
            else
            {
                Int8Quantizer.QuantizeSymmetric(source, part, packedPart, scalesPart);
            }
        });
    }
}
