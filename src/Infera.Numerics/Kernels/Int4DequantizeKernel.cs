using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Infera.Numerics;

/// <summary>
/// Dequantizes one row of a 4-bit <see cref="MatMulNBitsLayout"/> weight, <c>(code - zero_point) × scale</c>,
/// bit-identical to the scalar formula. Returns how many leading elements it wrote (a multiple of four vectors);
/// the caller finishes the rest.
/// </summary>
internal static class Int4DequantizeKernel
{
    public static bool IsSupported(int blockSize) => Vector128.IsHardwareAccelerated && blockSize >= 16;

    public static int DequantizeRow(ReadOnlySpan<byte> packedRow, int blockSize, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, Span<float> row)
    {
        ref var pRef = ref MemoryMarshal.GetReference(packedRow);
        ref var dRef = ref MemoryMarshal.GetReference(row);
        var shift = System.Numerics.BitOperations.Log2((uint)blockSize);
        if (Vector512.IsHardwareAccelerated)
        {
            return DequantizeRowVector512(ref pRef, row.Length, shift, scales, zeroPoints, ref dRef);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            return DequantizeRowVector256(ref pRef, row.Length, shift, scales, zeroPoints, ref dRef);
        }

        return Vector128.IsHardwareAccelerated ? DequantizeRowVector128(ref pRef, row.Length, shift, scales, zeroPoints, ref dRef) : 0;
    }

    private static int DequantizeRowVector512(ref byte packed, int length, int shift, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, ref float destination)
    {
        var width = Vector512<float>.Count;
        var step = 4 * width;
        var lowMask = Vector512.Create((ushort)0x0F);
        var highMask = Vector512.Create((ushort)0xF0);
        var j = 0;
        for (; j + step <= length; j += step)
        {
            // 2W packed bytes, widened to 16-bit lanes; (b & 0xF) | (b & 0xF0) << 4 puts the low nibble in the
            // lane's first byte and the high nibble in its second, i.e. the 4W codes in element order.
            var half = Vector256.LoadUnsafe(ref packed, (nuint)(j >> 1));
            var wide = Vector512.WidenLower(Vector512.Create(half, half));
            var codes = ((wide & lowMask) | ((wide & highMask) << 4)).AsByte();
            var low = Vector512.WidenLower(codes);
            var high = Vector512.WidenUpper(codes);
            StoreVector512(Vector512.WidenLower(low), j, shift, scales, zeroPoints, ref destination);
            StoreVector512(Vector512.WidenUpper(low), j + width, shift, scales, zeroPoints, ref destination);
            StoreVector512(Vector512.WidenLower(high), j + (2 * width), shift, scales, zeroPoints, ref destination);
            StoreVector512(Vector512.WidenUpper(high), j + (3 * width), shift, scales, zeroPoints, ref destination);
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVector512(Vector512<uint> codes, int j, int shift, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, ref float destination)
    {
        var b = j >> shift;
        var values = (Vector512.ConvertToSingle(codes.AsInt32()) - Vector512.Create((float)zeroPoints[b])) * Vector512.Create(scales[b]);
        values.StoreUnsafe(ref destination, (nuint)j);
    }

    private static int DequantizeRowVector256(ref byte packed, int length, int shift, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, ref float destination)
    {
        var width = Vector256<float>.Count;
        var step = 4 * width;
        var lowMask = Vector256.Create((ushort)0x0F);
        var highMask = Vector256.Create((ushort)0xF0);
        var j = 0;
        for (; j + step <= length; j += step)
        {
            // 2W packed bytes, widened to 16-bit lanes; (b & 0xF) | (b & 0xF0) << 4 puts the low nibble in the
            // lane's first byte and the high nibble in its second, i.e. the 4W codes in element order.
            var half = Vector128.LoadUnsafe(ref packed, (nuint)(j >> 1));
            var wide = Vector256.WidenLower(Vector256.Create(half, half));
            var codes = ((wide & lowMask) | ((wide & highMask) << 4)).AsByte();
            var low = Vector256.WidenLower(codes);
            var high = Vector256.WidenUpper(codes);
            StoreVector256(Vector256.WidenLower(low), j, shift, scales, zeroPoints, ref destination);
            StoreVector256(Vector256.WidenUpper(low), j + width, shift, scales, zeroPoints, ref destination);
            StoreVector256(Vector256.WidenLower(high), j + (2 * width), shift, scales, zeroPoints, ref destination);
            StoreVector256(Vector256.WidenUpper(high), j + (3 * width), shift, scales, zeroPoints, ref destination);
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVector256(Vector256<uint> codes, int j, int shift, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, ref float destination)
    {
        var b = j >> shift;
        var values = (Vector256.ConvertToSingle(codes.AsInt32()) - Vector256.Create((float)zeroPoints[b])) * Vector256.Create(scales[b]);
        values.StoreUnsafe(ref destination, (nuint)j);
    }

    private static int DequantizeRowVector128(ref byte packed, int length, int shift, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, ref float destination)
    {
        var width = Vector128<float>.Count;
        var step = 4 * width;
        var lowMask = Vector128.Create((ushort)0x0F);
        var highMask = Vector128.Create((ushort)0xF0);
        var j = 0;
        for (; j + step <= length; j += step)
        {
            // 2W packed bytes, widened to 16-bit lanes; (b & 0xF) | (b & 0xF0) << 4 puts the low nibble in the
            // lane's first byte and the high nibble in its second, i.e. the 4W codes in element order.
            var half = Vector64.LoadUnsafe(ref packed, (nuint)(j >> 1));
            var wide = Vector128.WidenLower(Vector128.Create(half, half));
            var codes = ((wide & lowMask) | ((wide & highMask) << 4)).AsByte();
            var low = Vector128.WidenLower(codes);
            var high = Vector128.WidenUpper(codes);
            StoreVector128(Vector128.WidenLower(low), j, shift, scales, zeroPoints, ref destination);
            StoreVector128(Vector128.WidenUpper(low), j + width, shift, scales, zeroPoints, ref destination);
            StoreVector128(Vector128.WidenLower(high), j + (2 * width), shift, scales, zeroPoints, ref destination);
            StoreVector128(Vector128.WidenUpper(high), j + (3 * width), shift, scales, zeroPoints, ref destination);
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVector128(Vector128<uint> codes, int j, int shift, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeroPoints, ref float destination)
    {
        var b = j >> shift;
        var values = (Vector128.ConvertToSingle(codes.AsInt32()) - Vector128.Create((float)zeroPoints[b])) * Vector128.Create(scales[b]);
        values.StoreUnsafe(ref destination, (nuint)j);
    }
}
