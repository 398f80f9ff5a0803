using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Infera.Numerics;

/// <summary>
/// The largest value of a non-empty span, for the softmax offset: four independent vector maxima, no index. The
/// result is only meaningful when it is finite; with NaN or infinite values the caller falls back to
/// <see cref="ArgMaxKernel"/>, whose NaN handling is specified (a NaN may or may not surface here, depending on
/// the processor's max instruction).
/// </summary>
internal static class MaxKernel
{
    public static float Max(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty)
        {
            ThrowHelper.ThrowEmpty(nameof(x));
        }

        ref var xRef = ref MemoryMarshal.GetReference(x);
        var length = (nuint)x.Length;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            return MaxVector512(ref xRef, length);
        }

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<float>.Count)
        {
            return MaxVector256(ref xRef, length);
        }

        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<float>.Count)
        {
            return MaxVector128(ref xRef, length);
        }

        var max = x[0];
        foreach (var value in x)
        {
            max = value > max || float.IsNaN(value) ? value : max;
        }

        return max;
    }

    private static float MaxVector512(ref float x, nuint length)
    {
        var count = (nuint)Vector512<float>.Count;
        var last = length - count;
        var m0 = Vector512.LoadUnsafe(ref x, last);
        var m1 = m0;
        var m2 = m0;
        var m3 = m0;
        nuint i = 0;
        for (; i + (4 * count) <= last; i += 4 * count)
        {
            m0 = Vector512.MaxNative(Vector512.LoadUnsafe(ref x, i), m0);
            m1 = Vector512.MaxNative(Vector512.LoadUnsafe(ref x, i + count), m1);
            m2 = Vector512.MaxNative(Vector512.LoadUnsafe(ref x, i + (2 * count)), m2);
            m3 = Vector512.MaxNative(Vector512.LoadUnsafe(ref x, i + (3 * count)), m3);
        }

        for (; i < last; i += count)
        {
            m0 = Vector512.MaxNative(Vector512.LoadUnsafe(ref x, i), m0);
        }

        var m = Vector512.MaxNative(Vector512.MaxNative(m0, m1), Vector512.MaxNative(m2, m3));
        return Reduce(Vector256.MaxNative(m.GetLower(), m.GetUpper()));
    }

    private static float MaxVector256(ref float x, nuint length)
    {
        var count = (nuint)Vector256<float>.Count;
        var last = length - count;
        var m0 = Vector256.LoadUnsafe(ref x, last);
        var m1 = m0;
        var m2 = m0;
        var m3 = m0;
        nuint i = 0;
        for (; i + (4 * count) <= last; i += 4 * count)
        {
            m0 = Vector256.MaxNative(Vector256.LoadUnsafe(ref x, i), m0);
            m1 = Vector256.MaxNative(Vector256.LoadUnsafe(ref x, i + count), m1);
            m2 = Vector256.MaxNative(Vector256.LoadUnsafe(ref x, i + (2 * count)), m2);
            m3 = Vector256.MaxNative(Vector256.LoadUnsafe(ref x, i + (3 * count)), m3);
        }

        for (; i < last; i += count)
        {
            m0 = Vector256.MaxNative(Vector256.LoadUnsafe(ref x, i), m0);
        }

        return Reduce(Vector256.MaxNative(Vector256.MaxNative(m0, m1), Vector256.MaxNative(m2, m3)));
    }

    private static float MaxVector128(ref float x, nuint length)
    {
        var count = (nuint)Vector128<float>.Count;
        var last = length - count;
        var m0 = Vector128.LoadUnsafe(ref x, last);
        var m1 = m0;
        var m2 = m0;
        var m3 = m0;
        nuint i = 0;
        for (; i + (4 * count) <= last; i += 4 * count)
        {
            m0 = Vector128.MaxNative(Vector128.LoadUnsafe(ref x, i), m0);
            m1 = Vector128.MaxNative(Vector128.LoadUnsafe(ref x, i + count), m1);
            m2 = Vector128.MaxNative(Vector128.LoadUnsafe(ref x, i + (2 * count)), m2);
            m3 = Vector128.MaxNative(Vector128.LoadUnsafe(ref x, i + (3 * count)), m3);
        }

        for (; i < last; i += count)
        {
            m0 = Vector128.MaxNative(Vector128.LoadUnsafe(ref x, i), m0);
        }

        return Reduce(Vector128.MaxNative(Vector128.MaxNative(m0, m1), Vector128.MaxNative(m2, m3)));
    }

    private static float Reduce(Vector256<float> m) => Reduce(Vector128.MaxNative(m.GetLower(), m.GetUpper()));

    private static float Reduce(Vector128<float> m)
    {
        var max = m.GetElement(0);
        for (var lane = 1; lane < Vector128<float>.Count; lane++)
        {
            var value = m.GetElement(lane);
            max = value > max || float.IsNaN(value) ? value : max;
        }

        return max;
    }
}
