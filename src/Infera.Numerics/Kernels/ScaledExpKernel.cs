using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Infera.Numerics;

/// <summary>
/// <c>destination[i] = exp((x[i] - offset) × scale)</c>, returning the sum of the written values: the core of a
/// max-subtracted softmax with temperature. <c>destination</c> may be <c>x</c> itself but must not partly overlap it.
/// </summary>
internal static class ScaledExpKernel
{
    public static float Compute(ReadOnlySpan<float> x, float offset, float scale, Span<float> destination)
    {
        if (destination.Length < x.Length)
        {
            ThrowHelper.ThrowDestinationTooShort(nameof(destination));
        }

        ThrowHelper.ThrowIfPartialOverlap(x, destination);
        ref var xRef = ref MemoryMarshal.GetReference(x);
        ref var dRef = ref MemoryMarshal.GetReference(destination);
        var length = (nuint)x.Length;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            return ComputeVector512(ref xRef, ref dRef, length, offset, scale);
        }

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<float>.Count)
        {
            return ComputeVector256(ref xRef, ref dRef, length, offset, scale);
        }

        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<float>.Count)
        {
            return ComputeVector128(ref xRef, ref dRef, length, offset, scale);
        }

        var sum = 0.0;
        for (nuint i = 0; i < length; i++)
        {
            var e = VectorExp.Exp((Unsafe.Add(ref xRef, i) - offset) * scale);
            Unsafe.Add(ref dRef, i) = e;
            sum += e;
        }

        return (float)sum;
    }

    private static float ComputeVector512(ref float x, ref float destination, nuint length, float offset, float scale)
    {
        var count = (nuint)Vector512<float>.Count;
        var vOffset = Vector512.Create(offset);
        var vScale = Vector512.Create(scale);
        var sum = Vector512<float>.Zero;
        var last = length - count;

        // Loaded before the loop so that an in-place call still sees the original tail.
        var tail = Vector512.LoadUnsafe(ref x, last);
        var total = 0.0;
        nuint i = 0;
        while (i < last)
        {
            // Float lanes are flushed into a double every 128 vectors, so long spans keep ~1e-7 relative accuracy.
            var end = Math.Min(last, i + (128 * count));
            for (; i < end; i += count)
            {
                var e = VectorExp.Exp((Vector512.LoadUnsafe(ref x, i) - vOffset) * vScale);
                e.StoreUnsafe(ref destination, i);
                sum += e;
            }

            total += Vector512.Sum(sum);
            sum = Vector512<float>.Zero;
        }

        var eTail = VectorExp.Exp((tail - vOffset) * vScale);
        eTail.StoreUnsafe(ref destination, last);

        // Lanes of the overlapping last vector that the loop already summed are masked out.
        var fresh = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create((int)(i - last))).AsSingle();
        return (float)(total + Vector512.Sum(eTail & fresh));
    }

    private static float ComputeVector256(ref float x, ref float destination, nuint length, float offset, float scale)
    {
        var count = (nuint)Vector256<float>.Count;
        var vOffset = Vector256.Create(offset);
        var vScale = Vector256.Create(scale);
        var sum = Vector256<float>.Zero;
        var last = length - count;

        // Loaded before the loop so that an in-place call still sees the original tail.
        var tail = Vector256.LoadUnsafe(ref x, last);
        var total = 0.0;
        nuint i = 0;
        while (i < last)
        {
            // Float lanes are flushed into a double every 128 vectors, so long spans keep ~1e-7 relative accuracy.
            var end = Math.Min(last, i + (128 * count));
            for (; i < end; i += count)
            {
                var e = VectorExp.Exp((Vector256.LoadUnsafe(ref x, i) - vOffset) * vScale);
                e.StoreUnsafe(ref destination, i);
                sum += e;
            }

            total += Vector256.Sum(sum);
            sum = Vector256<float>.Zero;
        }

        var eTail = VectorExp.Exp((tail - vOffset) * vScale);
        eTail.StoreUnsafe(ref destination, last);

        // Lanes of the overlapping last vector that the loop already summed are masked out.
        var fresh = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create((int)(i - last))).AsSingle();
        return (float)(total + Vector256.Sum(eTail & fresh));
    }

    private static float ComputeVector128(ref float x, ref float destination, nuint length, float offset, float scale)
    {
        var count = (nuint)Vector128<float>.Count;
        var vOffset = Vector128.Create(offset);
        var vScale = Vector128.Create(scale);
        var sum = Vector128<float>.Zero;
        var last = length - count;

        // Loaded before the loop so that an in-place call still sees the original tail.
        var tail = Vector128.LoadUnsafe(ref x, last);
        var total = 0.0;
        nuint i = 0;
        while (i < last)
        {
            // Float lanes are flushed into a double every 128 vectors, so long spans keep ~1e-7 relative accuracy.
            var end = Math.Min(last, i + (128 * count));
            for (; i < end; i += count)
            {
                var e = VectorExp.Exp((Vector128.LoadUnsafe(ref x, i) - vOffset) * vScale);
                e.StoreUnsafe(ref destination, i);
                sum += e;
            }

            total += Vector128.Sum(sum);
            sum = Vector128<float>.Zero;
        }

        var eTail = VectorExp.Exp((tail - vOffset) * vScale);
        eTail.StoreUnsafe(ref destination, last);

        // Lanes of the overlapping last vector that the loop already summed are masked out.
        var fresh = Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create((int)(i - last))).AsSingle();
        return (float)(total + Vector128.Sum(eTail & fresh));
    }
}
