using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Infera.Numerics;

/// <summary>
/// Codes and packs the full 4-bit blocks of one row of a <see cref="MatMulNBitsLayout"/> weight, given each block's
/// scale and zero point; bit-identical to <see cref="BlockQuantizer.QuantizeRowReference"/>. Returns how many
/// leading elements it wrote (a multiple of four vectors); the caller finishes the rest with the reference.
/// </summary>
internal static class Int4QuantizeKernel
{
    public static bool IsSupported(int blockSize) => Vector128.IsHardwareAccelerated && blockSize >= 16;

    public static int QuantizeRow(ReadOnlySpan<float> fullBlocks, int blockSize, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, Span<byte> packedRow)
    {
        ref var xRef = ref MemoryMarshal.GetReference(fullBlocks);
        ref var dRef = ref MemoryMarshal.GetReference(packedRow);
        var shift = System.Numerics.BitOperations.Log2((uint)blockSize);
        if (Vector512.IsHardwareAccelerated)
        {
            return QuantizeRowVector512(ref xRef, fullBlocks.Length, shift, scales, zeroPoints, ref dRef);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            return QuantizeRowVector256(ref xRef, fullBlocks.Length, shift, scales, zeroPoints, ref dRef);
        }

        return Vector128.IsHardwareAccelerated ? QuantizeRowVector128(ref xRef, fullBlocks.Length, shift, scales, zeroPoints, ref dRef) : 0;
    }

    private static int QuantizeRowVector512(ref float x, int length, int shift, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, ref byte destination)
    {
        var width = Vector512<float>.Count;
        var step = 4 * width;
        var j = 0;
        for (; j + step <= length; j += step)
        {
            var p0 = PackVector512(CodesVector512(ref x, j, shift, scales, zeroPoints), CodesVector512(ref x, j + width, shift, scales, zeroPoints));
            var p1 = PackVector512(CodesVector512(ref x, j + (2 * width), shift, scales, zeroPoints), CodesVector512(ref x, j + (3 * width), shift, scales, zeroPoints));
            var words = Vector512.Narrow(p0, p1);
            Vector512.Narrow(words, words).GetLower().StoreUnsafe(ref destination, (nuint)(j >> 1));
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> CodesVector512(ref float x, int j, int shift, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints)
    {
        var b = j >> shift;
        var scale = scales[b];
        var reciprocal = scale != 0f ? 1f / scale : 0f;

        // Same operation order as the scalar reference: round(x * (1/scale) + zeroPoint), then clamp to [0, 15].
        // Clamping first is equivalent and leaves y in [0, 15], where rounding half away from zero is
        // truncation plus one when the (exact) fraction is at least 0.5.
        var y = (Vector512.LoadUnsafe(ref x, (nuint)j) * Vector512.Create(reciprocal)) + Vector512.Create((float)zeroPoints[b]);
        y = Vector512.MinNative(Vector512.MaxNative(y, Vector512<float>.Zero), Vector512.Create(15f));
        var t = Vector512.ConvertToInt32Native(y);
        var fraction = y - Vector512.ConvertToSingle(t);
        t -= Vector512.GreaterThanOrEqual(fraction, Vector512.Create(0.5f)).AsInt32();
        return t.AsUInt32();
    }

    /// <summary>Two vectors of codes (0..15) to one vector of packed bytes, one per 32-bit lane: low nibble first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> PackVector512(Vector512<uint> a, Vector512<uint> b)
    {
        var pairs = Vector512.Narrow(a, b).AsUInt32();
        return (pairs | (pairs >> 12)) & Vector512.Create(0xFFu);
    }

    private static int QuantizeRowVector256(ref float x, int length, int shift, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, ref byte destination)
    {
        var width = Vector256<float>.Count;
        var step = 4 * width;
        var j = 0;
        for (; j + step <= length; j += step)
        {
            var p0 = PackVector256(CodesVector256(ref x, j, shift, scales, zeroPoints), CodesVector256(ref x, j + width, shift, scales, zeroPoints));
            var p1 = PackVector256(CodesVector256(ref x, j + (2 * width), shift, scales, zeroPoints), CodesVector256(ref x, j + (3 * width), shift, scales, zeroPoints));
            var words = Vector256.Narrow(p0, p1);
            Vector256.Narrow(words, words).GetLower().StoreUnsafe(ref destination, (nuint)(j >> 1));
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> CodesVector256(ref float x, int j, int shift, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints)
    {
        var b = j >> shift;
        var scale = scales[b];
        var reciprocal = scale != 0f ? 1f / scale : 0f;

        // Same operation order as the scalar reference: round(x * (1/scale) + zeroPoint), then clamp to [0, 15].
        // Clamping first is equivalent and leaves y in [0, 15], where rounding half away from zero is
        // truncation plus one when the (exact) fraction is at least 0.5.
        var y = (Vector256.LoadUnsafe(ref x, (nuint)j) * Vector256.Create(reciprocal)) + Vector256.Create((float)zeroPoints[b]);
        y = Vector256.MinNative(Vector256.MaxNative(y, Vector256<float>.Zero), Vector256.Create(15f));
        var t = Vector256.ConvertToInt32Native(y);
        var fraction = y - Vector256.ConvertToSingle(t);
        t -= Vector256.GreaterThanOrEqual(fraction, Vector256.Create(0.5f)).AsInt32();
        return t.AsUInt32();
    }

    /// <summary>Two vectors of codes (0..15) to one vector of packed bytes, one per 32-bit lane: low nibble first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> PackVector256(Vector256<uint> a, Vector256<uint> b)
    {
        var pairs = Vector256.Narrow(a, b).AsUInt32();
        return (pairs | (pairs >> 12)) & Vector256.Create(0xFFu);
    }

    private static int QuantizeRowVector128(ref float x, int length, int shift, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, ref byte destination)
    {
        var width = Vector128<float>.Count;
        var step = 4 * width;
        var j = 0;
        for (; j + step <= length; j += step)
        {
            var p0 = PackVector128(CodesVector128(ref x, j, shift, scales, zeroPoints), CodesVector128(ref x, j + width, shift, scales, zeroPoints));
            var p1 = PackVector128(CodesVector128(ref x, j + (2 * width), shift, scales, zeroPoints), CodesVector128(ref x, j + (3 * width), shift, scales, zeroPoints));
            var words = Vector128.Narrow(p0, p1);
            Vector128.Narrow(words, words).GetLower().StoreUnsafe(ref destination, (nuint)(j >> 1));
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> CodesVector128(ref float x, int j, int shift, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints)
    {
        var b = j >> shift;
        var scale = scales[b];
        var reciprocal = scale != 0f ? 1f / scale : 0f;

        // Same operation order as the scalar reference: round(x * (1/scale) + zeroPoint), then clamp to [0, 15].
        // Clamping first is equivalent and leaves y in [0, 15], where rounding half away from zero is
        // truncation plus one when the (exact) fraction is at least 0.5.
        var y = (Vector128.LoadUnsafe(ref x, (nuint)j) * Vector128.Create(reciprocal)) + Vector128.Create((float)zeroPoints[b]);
        y = Vector128.MinNative(Vector128.MaxNative(y, Vector128<float>.Zero), Vector128.Create(15f));
        var t = Vector128.ConvertToInt32Native(y);
        var fraction = y - Vector128.ConvertToSingle(t);
        t -= Vector128.GreaterThanOrEqual(fraction, Vector128.Create(0.5f)).AsInt32();
        return t.AsUInt32();
    }

    /// <summary>Two vectors of codes (0..15) to one vector of packed bytes, one per 32-bit lane: low nibble first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> PackVector128(Vector128<uint> a, Vector128<uint> b)
    {
        var pairs = Vector128.Narrow(a, b).AsUInt32();
        return (pairs | (pairs >> 12)) & Vector128.Create(0xFFu);
    }
}
