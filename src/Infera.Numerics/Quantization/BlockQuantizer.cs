using System.Buffers;
using System.Runtime.CompilerServices;

namespace Infera.Numerics;

/// <summary>
/// Block quantization in the <see cref="MatMulNBitsLayout"/>, following ONNX Runtime's MLAS blockwise quantizer
/// (<c>range2scale</c>/<c>range2scalezp</c>): the scalar reference, and the driver that hands full 4-bit blocks to
/// the vector kernels.
/// </summary>
/// <remarks>
/// Per block with minimum <c>lo</c> and maximum <c>hi</c>:
/// symmetric: <c>scale = m / -2^(bits-1)</c> where <c>m</c> is whichever of <c>hi</c>, <c>lo</c> has the larger
/// magnitude (<c>lo</c> on a tie), zero point <c>2^(bits-1)</c>; so the largest-magnitude value maps exactly to code 0 and the
/// opposite side reaches <c>2^(bits-1) - 1</c>, with one step of clamping error at most.
/// With zero points: <c>lo' = min(lo, 0)</c>, <c>hi' = max(hi, 0)</c>, <c>scale = (hi' - lo') / (2^bits - 1)</c>,
/// <c>zero_point = clamp(round(-lo' / scale), 0, 2^bits - 1)</c>.
/// Codes: <c>clamp(round(x × (1 / scale) + zero_point), 0, 2^bits - 1)</c>, <c>round</c> going half away from zero
/// (C <c>roundf</c>), the reciprocal being 0 when the scale is 0. A zero scale is stored as +0.
/// </remarks>
internal static class BlockQuantizer
{
    public static void Quantize(ReadOnlySpan<float> weights, in MatMulNBitsLayout layout, Span<byte> packed, Span<float> scales, Span<byte> zeroPoints, bool symmetric, bool vectorized)
    {
        CheckLengths(weights.Length, layout, packed.Length, scales.Length, symmetric ? -1 : zeroPoints.Length, nameof(weights));
        var blocks = layout.BlocksPerRow;
        var rowScales = ArrayPool<float>.Shared.Rent(blocks);
        var rowZeroPoints = ArrayPool<byte>.Shared.Rent(blocks);
        try
        {
            for (var n = 0; n < layout.N; n++)
            {
                var row = weights.Slice(n * layout.K, layout.K);
                var packedRow = packed.Slice(n * layout.PackedRowLength, layout.PackedRowLength);
                var useKernel = vectorized && layout.Bits == 4 && Int4QuantizeKernel.IsSupported(layout.BlockSize);
                for (var b = 0; b < blocks; b++)
                {
                    var start = b * layout.BlockSize;
                    var block = row.Slice(start, Math.Min(layout.BlockSize, layout.K - start));
                    float lo, hi;
                    if (useKernel && block.Length == layout.BlockSize)
                    {
                        (lo, hi) = BlockMinMaxKernel.MinMax(block);
                    }
                    else
                    {
                        (lo, hi) = MinMaxReference(block);
                    }

                    ScaleAndZeroPoint(lo, hi, layout.Bits, symmetric, out rowScales[b], out rowZeroPoints[b]);
                }

                var fullLength = 0;
                if (useKernel)
                {
                    fullLength = Int4QuantizeKernel.QuantizeRow(row[..(layout.K / layout.BlockSize * layout.BlockSize)], layout.BlockSize, rowScales, rowZeroPoints, packedRow);
                }

                QuantizeRowReference(row, fullLength, layout, rowScales, rowZeroPoints, packedRow);
                rowScales.AsSpan(0, blocks).CopyTo(scales.Slice(n * blocks, blocks));
                if (!symmetric)
                {
                    PackZeroPoints(rowZeroPoints.AsSpan(0, blocks), layout.Bits, zeroPoints.Slice(n * layout.ZeroPointRowLength, layout.ZeroPointRowLength));
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rowScales);
            ArrayPool<byte>.Shared.Return(rowZeroPoints);
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, in MatMulNBitsLayout layout, Span<float> destination, bool vectorized)
    {
        CheckLengths(destination.Length, layout, packed.Length, scales.Length, zeroPoints.IsEmpty ? -1 : zeroPoints.Length, nameof(destination));
        var blocks = layout.BlocksPerRow;
        var rowZeroPoints = ArrayPool<byte>.Shared.Rent(blocks);
        try
        {
            for (var n = 0; n < layout.N; n++)
            {
                var rowScales = scales.Slice(n * blocks, blocks);
                if (zeroPoints.IsEmpty)
                {
                    rowZeroPoints.AsSpan(0, blocks).Fill((byte)layout.DefaultZeroPoint);
                }
                else
                {
                    UnpackZeroPoints(zeroPoints.Slice(n * layout.ZeroPointRowLength, layout.ZeroPointRowLength), layout.Bits, rowZeroPoints.AsSpan(0, blocks));
                }

                var packedRow = packed.Slice(n * layout.PackedRowLength, layout.PackedRowLength);
                var row = destination.Slice(n * layout.K, layout.K);
                var done = 0;
                if (vectorized && layout.Bits == 4 && Int4DequantizeKernel.IsSupported(layout.BlockSize))
                {
                    done = Int4DequantizeKernel.DequantizeRow(packedRow, layout.BlockSize, rowScales, rowZeroPoints, row);
                }

                for (var j = done; j < layout.K; j++)
                {
                    var b = j / layout.BlockSize;
                    row[j] = (ReadCode(packedRow, j, layout.Bits) - (float)rowZeroPoints[b]) * rowScales[b];
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rowZeroPoints);
        }
    }

    public static (float Min, float Max) MinMaxReference(ReadOnlySpan<float> block)
    {
        var min = float.MaxValue;
        var max = -float.MaxValue;
        foreach (var v in block)
        {
            if (v < min)
            {
                min = v;
            }

            if (v > max)
            {
                max = v;
            }
        }

        return (min, max);
    }

    public static void ScaleAndZeroPoint(float min, float max, int bits, bool symmetric, out float scale, out byte zeroPoint)
    {
        var mid = 1 << (bits - 1);
        var top = (1 << bits) - 1;
        if (symmetric)
        {
            var m = MathF.Abs(max) > MathF.Abs(min) ? max : min;
            scale = m / -mid;
            zeroPoint = (byte)mid;
        }
        else
        {
            min = 0f < min ? 0f : min;
            max = max < 0f ? 0f : max;
            scale = (max - min) / top;
            var zeroPointValue = scale != 0f ? 0f - (min / scale) : min;
            zeroPoint = zeroPointValue < 0f ? (byte)0 : zeroPointValue > top ? (byte)top : (byte)MathF.Round(zeroPointValue, MidpointRounding.AwayFromZero);
        }

        if (scale == 0f)
        {
            scale = 0f;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Code(float value, float reciprocal, float zeroPoint, int top)
    {
        var y = MathF.Round((value * reciprocal) + zeroPoint, MidpointRounding.AwayFromZero);
        return y < 0f ? (byte)0 : y > top ? (byte)top : (byte)y;
    }

    /// <summary>Scalar codes for elements <paramref name="from"/>..K of a row, plus the padding of its last block.</summary>
    public static void QuantizeRowReference(ReadOnlySpan<float> row, int from, in MatMulNBitsLayout layout, ReadOnlySpan<float> rowScales, ReadOnlySpan<byte> rowZeroPoints, Span<byte> packedRow)
    {
        var top = (1 << layout.Bits) - 1;
        var paddedLength = layout.BlocksPerRow * layout.BlockSize;
        var currentBlock = -1;
        var reciprocal = 0f;
        var zeroPoint = 0f;
        for (var j = from; j < paddedLength; j++)
        {
            var b = j / layout.BlockSize;
            if (b != currentBlock)
            {
                currentBlock = b;
                reciprocal = rowScales[b] != 0f ? 1f / rowScales[b] : 0f;
                zeroPoint = rowZeroPoints[b];
            }

            var code = j < layout.K ? Code(row[j], reciprocal, zeroPoint, top) : rowZeroPoints[b];
            WriteCode(packedRow, j, layout.Bits, code);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteCode(Span<byte> packedRow, int index, int bits, byte code)
    {
        if (bits == 8)
        {
            packedRow[index] = code;
        }
        else if ((index & 1) == 0)
        {
            packedRow[index >> 1] = (byte)((packedRow[index >> 1] & 0xF0) | code);
        }
        else
        {
            packedRow[index >> 1] = (byte)((packedRow[index >> 1] & 0x0F) | (code << 4));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ReadCode(ReadOnlySpan<byte> packedRow, int index, int bits) =>
        bits == 8 ? packedRow[index] : (index & 1) == 0 ? packedRow[index >> 1] & 0x0F : packedRow[index >> 1] >> 4;

    public static void PackZeroPoints(ReadOnlySpan<byte> zeroPoints, int bits, Span<byte> packedRow)
    {
        if (bits == 8)
        {
            zeroPoints.CopyTo(packedRow);
            return;
        }

        // A spare high nibble is 8, as ONNX Runtime's quantizer leaves it.
        packedRow.Fill(0x88);
        for (var b = 0; b < zeroPoints.Length; b++)
        {
            WriteCode(packedRow, b, 4, zeroPoints[b]);
        }
    }

    public static void UnpackZeroPoints(ReadOnlySpan<byte> packedRow, int bits, Span<byte> zeroPoints)
    {
        for (var b = 0; b < zeroPoints.Length; b++)
        {
            zeroPoints[b] = (byte)ReadCode(packedRow, b, bits);
        }
    }

    private static void CheckLengths(int weightLength, in MatMulNBitsLayout layout, int packedLength, int scaleLength, int zeroPointLength, string weightName)
    {
        if (layout.N == 0)
        {
            ThrowHelper.ThrowArgument(nameof(layout), "The layout is not initialized.");
        }

        if (weightLength != layout.WeightCount)
        {
            ThrowHelper.ThrowLengthMismatch(weightName, layout.WeightCount, weightLength);
        }

        if (packedLength != layout.PackedLength)
        {
            ThrowHelper.ThrowLengthMismatch("packed", layout.PackedLength, packedLength);
        }

        if (scaleLength != layout.ScaleCount)
        {
            ThrowHelper.ThrowLengthMismatch("scales", layout.ScaleCount, scaleLength);
        }

        if (zeroPointLength >= 0 && zeroPointLength != layout.ZeroPointLength)
        {
            ThrowHelper.ThrowLengthMismatch("zeroPoints", layout.ZeroPointLength, zeroPointLength);
        }
    }
}
