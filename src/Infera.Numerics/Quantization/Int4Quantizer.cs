namespace Infera.Numerics;

/// <summary>
/// 4-bit block quantization of a row-major [N, K] weight into ONNX Runtime's <c>MatMulNBits</c> tensors
/// (<c>bits = 4</c>; block sizes 16, 32, 64, 128), and back. See <see cref="MatMulNBitsLayout"/> for the layout.
/// </summary>
/// <remarks>
/// <para>
/// The arithmetic follows ONNX Runtime's MLAS blockwise quantizer. Symmetric: per block, <c>scale = m / -8</c> where
/// <c>m</c> is the block's value of largest magnitude, and the zero point is the operator's default 8 (no
/// <c>zero_points</c> input). With zero points: <c>scale = (max(hi, 0) - min(lo, 0)) / 15</c> and
/// <c>zero_point = round(-min(lo, 0) / scale)</c>. Codes are <c>clamp(round(x / scale + zero_point), 0, 15)</c>,
/// rounding half away from zero, with the division done as a multiplication by the reciprocal.
/// </para>
/// <para>
/// Error bound, for a block with step <c>scale</c>: with zero points, <c>|x - dequantize(quantize(x))| &lt;= |scale| / 2</c>
/// plus float rounding; symmetric, <c>&lt;= |scale| / 2</c> on the side of the largest-magnitude value and
/// <c>&lt;= |scale|</c> on the other side, which holds one code fewer (code 15 is <c>7 × |scale|</c> while the extreme is 8 steps away).
/// </para>
/// <para>The vector path (Vector512, Vector256 or Vector128) produces the same bytes and floats as the scalar one.</para>
/// </remarks>
public static class Int4Quantizer
{
    /// <summary>Quantizes symmetrically (no zero points; the operator's default zero point 8 applies).</summary>
    /// <param name="weights">The row-major [N, K] weight (N × K values, finite).</param>
    /// <param name="layout">The layout; <see cref="MatMulNBitsLayout.Bits"/> must be 4.</param>
    /// <param name="packed">Receives <c>B</c>, <see cref="MatMulNBitsLayout.PackedLength"/> bytes.</param>
    /// <param name="scales">Receives <c>scales</c>, <see cref="MatMulNBitsLayout.ScaleCount"/> values.</param>
    /// <exception cref="ArgumentException">A length does not match the layout, or the layout is not 4-bit.</exception>
    public static void QuantizeSymmetric(ReadOnlySpan<float> weights, MatMulNBitsLayout layout, Span<byte> packed, Span<float> scales)
    {
        CheckBits(layout);
        BlockQuantizer.Quantize(weights, layout, packed, scales, default, symmetric: true, vectorized: true);
    }

    /// <summary>Quantizes with a zero point per block.</summary>
    /// <param name="weights">The row-major [N, K] weight (N × K values, finite).</param>
    /// <param name="layout">The layout; <see cref="MatMulNBitsLayout.Bits"/> must be 4.</param>
    /// <param name="packed">Receives <c>B</c>, <see cref="MatMulNBitsLayout.PackedLength"/> bytes.</param>
    /// <param name="scales">Receives <c>scales</c>, <see cref="MatMulNBitsLayout.ScaleCount"/> values.</param>
    /// <param name="zeroPoints">Receives <c>zero_points</c>, <see cref="MatMulNBitsLayout.ZeroPointLength"/> bytes.</param>
    /// <exception cref="ArgumentException">A length does not match the layout, or the layout is not 4-bit.</exception>
    public static void Quantize(ReadOnlySpan<float> weights, MatMulNBitsLayout layout, Span<byte> packed, Span<float> scales, Span<byte> zeroPoints)
    {
        CheckBits(layout);
        BlockQuantizer.Quantize(weights, layout, packed, scales, zeroPoints, symmetric: false, vectorized: true);
    }

    /// <summary>Dequantizes <c>B</c> back to a row-major [N, K] weight: <c>(code - zero_point) × scale</c>.</summary>
    /// <param name="packed"><c>B</c>, <see cref="MatMulNBitsLayout.PackedLength"/> bytes.</param>
    /// <param name="scales"><c>scales</c>, <see cref="MatMulNBitsLayout.ScaleCount"/> values.</param>
    /// <param name="zeroPoints"><c>zero_points</c>, <see cref="MatMulNBitsLayout.ZeroPointLength"/> bytes, or empty for the default zero point 8.</param>
    /// <param name="layout">The layout; <see cref="MatMulNBitsLayout.Bits"/> must be 4.</param>
    /// <param name="destination">Receives N × K values.</param>
    /// <exception cref="ArgumentException">A length does not match the layout, or the layout is not 4-bit.</exception>
    public static void Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, MatMulNBitsLayout layout, Span<float> destination)
    {
        CheckBits(layout);
        BlockQuantizer.Dequantize(packed, scales, zeroPoints, layout, destination, vectorized: true);
    }

    private static void CheckBits(in MatMulNBitsLayout layout)
    {
        if (layout.Bits != 4)
        {
            ThrowHelper.ThrowArgument(nameof(layout), $"Int4Quantizer needs a 4-bit layout, not {layout.Bits}-bit.");
        }
    }
}
