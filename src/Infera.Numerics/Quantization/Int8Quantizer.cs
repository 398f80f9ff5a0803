namespace Infera.Numerics;

/// <summary>
/// 8-bit quantization: per block into ONNX Runtime's <c>MatMulNBits</c> tensors (<c>bits = 8</c>, unsigned codes,
/// see <see cref="MatMulNBitsLayout"/>), and per row into signed symmetric int8 with one scale per row.
/// </summary>
/// <remarks>
/// Block quantization follows the same MLAS arithmetic as <see cref="Int4Quantizer"/> with 256 levels: symmetric
/// <c>scale = m / -128</c> and zero point 128 (the operator's default); with zero points
/// <c>scale = (max(hi, 0) - min(lo, 0)) / 255</c>. Per-row quantization is <c>scale = max|x| / 127</c>,
/// <c>q = clamp(round(x / scale), -127, 127)</c>, rounding half away from zero, error &lt;= <c>scale / 2</c>.
/// </remarks>
public static class Int8Quantizer
{
    /// <summary>Quantizes per block, symmetrically (no zero points; the operator's default zero point 128 applies).</summary>
    /// <param name="weights">The row-major [N, K] weight (N × K values, finite).</param>
    /// <param name="layout">The layout; <see cref="MatMulNBitsLayout.Bits"/> must be 8.</param>
    /// <param name="packed">Receives <c>B</c>, <see cref="MatMulNBitsLayout.PackedLength"/> bytes.</param>
    /// <param name="scales">Receives <c>scales</c>, <see cref="MatMulNBitsLayout.ScaleCount"/> values.</param>
    /// <exception cref="ArgumentException">A length does not match the layout, or the layout is not 8-bit.</exception>
    public static void QuantizeSymmetric(ReadOnlySpan<float> weights, MatMulNBitsLayout layout, Span<byte> packed, Span<float> scales)
    {
        CheckBits(layout);
        BlockQuantizer.Quantize(weights, layout, packed, scales, default, symmetric: true, vectorized: true);
    }

    /// <summary>Quantizes per block with a zero point per block.</summary>
    /// <param name="weights">The row-major [N, K] weight (N × K values, finite).</param>
    /// <param name="layout">The layout; <see cref="MatMulNBitsLayout.Bits"/> must be 8.</param>
    /// <param name="packed">Receives <c>B</c>, <see cref="MatMulNBitsLayout.PackedLength"/> bytes.</param>
    /// <param name="scales">Receives <c>scales</c>, <see cref="MatMulNBitsLayout.ScaleCount"/> values.</param>
    /// <param name="zeroPoints">Receives <c>zero_points</c>, <see cref="MatMulNBitsLayout.ZeroPointLength"/> bytes (one per block).</param>
    /// <exception cref="ArgumentException">A length does not match the layout, or the layout is not 8-bit.</exception>
    public static void Quantize(ReadOnlySpan<float> weights, MatMulNBitsLayout layout, Span<byte> packed, Span<float> scales, Span<byte> zeroPoints)
    {
        CheckBits(layout);
        BlockQuantizer.Quantize(weights, layout, packed, scales, zeroPoints, symmetric: false, vectorized: true);
    }

    /// <summary>Dequantizes per-block codes back to a row-major [N, K] weight: <c>(code - zero_point) × scale</c>.</summary>
    /// <param name="packed"><c>B</c>, <see cref="MatMulNBitsLayout.PackedLength"/> bytes.</param>
    /// <param name="scales"><c>scales</c>, <see cref="MatMulNBitsLayout.ScaleCount"/> values.</param>
    /// <param name="zeroPoints"><c>zero_points</c>, <see cref="MatMulNBitsLayout.ZeroPointLength"/> bytes, or empty for the default zero point 128.</param>
    /// <param name="layout">The layout; <see cref="MatMulNBitsLayout.Bits"/> must be 8.</param>
    /// <param name="destination">Receives N × K values.</param>
    /// <exception cref="ArgumentException">A length does not match the layout, or the layout is not 8-bit.</exception>
    public static void Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, MatMulNBitsLayout layout, Span<float> destination)
    {
        CheckBits(layout);
        BlockQuantizer.Dequantize(packed, scales, zeroPoints, layout, destination, vectorized: true);
    }

    /// <summary>Quantizes each row symmetrically to signed int8 with one scale per row.</summary>
    /// <param name="weights">The row-major [rows, columns] matrix (finite values).</param>
    /// <param name="rows">The number of rows.</param>
    /// <param name="columns">The number of columns.</param>
    /// <param name="quantized">Receives rows × columns codes in [-127, 127].</param>
    /// <param name="scales">Receives one scale per row, <c>max|x| / 127</c> (0 for an all-zero row).</param>
    /// <exception cref="ArgumentException">A length does not match <paramref name="rows"/> × <paramref name="columns"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is not positive.</exception>
    public static void QuantizeRows(ReadOnlySpan<float> weights, int rows, int columns, Span<sbyte> quantized, Span<float> scales)
    {
        CheckRows(weights.Length, rows, columns, quantized.Length, scales.Length);
        for (var r = 0; r < rows; r++)
        {
            var row = weights.Slice(r * columns, columns);
            var maxAbs = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(row);
            maxAbs = MathF.Abs(maxAbs);
            var scale = maxAbs / 127f;
            var reciprocal = scale != 0f ? 1f / scale : 0f;
            scales[r] = scale;
            var destination = quantized.Slice(r * columns, columns);
            for (var c = 0; c < columns; c++)
            {
                var q = MathF.Round(row[c] * reciprocal, MidpointRounding.AwayFromZero);
                destination[c] = (sbyte)Math.Clamp(q, -127f, 127f);
            }
        }
    }

    /// <summary>Dequantizes per-row int8 codes: <c>q × scale</c>.</summary>
    /// <param name="quantized">The rows × columns codes.</param>
    /// <param name="scales">One scale per row.</param>
    /// <param name="rows">The number of rows.</param>
    /// <param name="columns">The number of columns.</param>
    /// <param name="destination">Receives rows × columns values.</param>
    /// <exception cref="ArgumentException">A length does not match <paramref name="rows"/> × <paramref name="columns"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is not positive.</exception>
    public static void DequantizeRows(ReadOnlySpan<sbyte> quantized, ReadOnlySpan<float> scales, int rows, int columns, Span<float> destination)
    {
        CheckRows(destination.Length, rows, columns, quantized.Length, scales.Length);
        for (var r = 0; r < rows; r++)
        {
            var source = quantized.Slice(r * columns, columns);
            var row = destination.Slice(r * columns, columns);
            var scale = scales[r];
            for (var c = 0; c < columns; c++)
            {
                row[c] = source[c] * scale;
            }
        }
    }

    private static void CheckRows(int valueLength, int rows, int columns, int quantizedLength, int scaleLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        var count = (long)rows * columns;
        if (valueLength != count || quantizedLength != count)
        {
            ThrowHelper.ThrowArgument("quantized", $"Expected {count} values and codes, got {valueLength} and {quantizedLength}.");
        }

        if (scaleLength != rows)
        {
            ThrowHelper.ThrowLengthMismatch("scales", rows, scaleLength);
        }
    }

    private static void CheckBits(in MatMulNBitsLayout layout)
    {
        if (layout.Bits != 8)
        {
            ThrowHelper.ThrowArgument(nameof(layout), $"Int8Quantizer needs an 8-bit layout, not {layout.Bits}-bit.");
        }
    }
}
