using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Infera.Numerics;

/// <summary>Index of the first value strictly greater than a threshold, or -1; NaN is never greater.</summary>
internal static class FirstGreaterKernel
{
    public static int IndexOfFirstGreater(ReadOnlySpan<float> x, float threshold)
    {
        ref var xRef = ref MemoryMarshal.GetReference(x);
        var length = (nuint)x.Length;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            return IndexOfFirstGreaterVector512(ref xRef, length, threshold);
        }

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<float>.Count)
        {
            return IndexOfFirstGreaterVector256(ref xRef, length, threshold);
        }

        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<float>.Count)
        {
            return IndexOfFirstGreaterVector128(ref xRef, length, threshold);
        }

        for (var i = 0; i < x.Length; i++)
        {
            if (x[i] > threshold)
            {
                return i;
            }
        }

        return -1;
    }

    private static int IndexOfFirstGreaterVector512(ref float x, nuint length, float threshold)
    {
        var count = (nuint)Vector512<float>.Count;
        var last = length - count;
        var vThreshold = Vector512.Create(threshold);
        nuint i = 0;
        for (; i + (3 * count) < last; i += 4 * count)
        {
            // Four vectors per test: hits are rare once a top-k heap has filled, so the common case is one branch.
            var m = Vector512.GreaterThan(Vector512.LoadUnsafe(ref x, i), vThreshold)
                | Vector512.GreaterThan(Vector512.LoadUnsafe(ref x, i + count), vThreshold)
                | Vector512.GreaterThan(Vector512.LoadUnsafe(ref x, i + (2 * count)), vThreshold)
                | Vector512.GreaterThan(Vector512.LoadUnsafe(ref x, i + (3 * count)), vThreshold);
            if (m != Vector512<float>.Zero)
            {
                break;
            }
        }

        for (; i < last; i += count)
        {
            var bits = Vector512.GreaterThan(Vector512.LoadUnsafe(ref x, i), vThreshold).ExtractMostSignificantBits();
            if (bits != 0)
            {
                return (int)i + BitOperations.TrailingZeroCount(bits);
            }
        }

        // The overlapping last vector only repeats lanes this call already found not greater.
        var tailBits = Vector512.GreaterThan(Vector512.LoadUnsafe(ref x, last), vThreshold).ExtractMostSignificantBits();
        return tailBits != 0 ? (int)last + BitOperations.TrailingZeroCount(tailBits) : -1;
    }

    private static int IndexOfFirstGreaterVector256(ref float x, nuint length, float threshold)
    {
        var count = (nuint)Vector256<float>.Count;
        var last = length - count;
        var vThreshold = Vector256.Create(threshold);
        nuint i = 0;
        for (; i + (3 * count) < last; i += 4 * count)
        {
            // Four vectors per test: hits are rare once a top-k heap has filled, so the common case is one branch.
            var m = Vector256.GreaterThan(Vector256.LoadUnsafe(ref x, i), vThreshold)
                | Vector256.GreaterThan(Vector256.LoadUnsafe(ref x, i + count), vThreshold)
                | Vector256.GreaterThan(Vector256.LoadUnsafe(ref x, i + (2 * count)), vThreshold)
                | Vector256.GreaterThan(Vector256.LoadUnsafe(ref x, i + (3 * count)), vThreshold);
            if (m != Vector256<float>.Zero)
            {
                break;
            }
        }

        for (; i < last; i += count)
        {
            var bits = Vector256.GreaterThan(Vector256.LoadUnsafe(ref x, i), vThreshold).ExtractMostSignificantBits();
            if (bits != 0)
            {
                return (int)i + BitOperations.TrailingZeroCount(bits);
            }
        }

        // The overlapping last vector only repeats lanes this call already found not greater.
        var tailBits = Vector256.GreaterThan(Vector256.LoadUnsafe(ref x, last), vThreshold).ExtractMostSignificantBits();
        return tailBits != 0 ? (int)last + BitOperations.TrailingZeroCount(tailBits) : -1;
    }

    private static int IndexOfFirstGreaterVector128(ref float x, nuint length, float threshold)
    {
        var count = (nuint)Vector128<float>.Count;
        var last = length - count;
        var vThreshold = Vector128.Create(threshold);
        nuint i = 0;
        for (; i + (3 * count) < last; i += 4 * count)
        {
            // Four vectors per test: hits are rare once a top-k heap has filled, so the common case is one branch.
            var m = Vector128.GreaterThan(Vector128.LoadUnsafe(ref x, i), vThreshold)
                | Vector128.GreaterThan(Vector128.LoadUnsafe(ref x, i + count), vThreshold)
                | Vector128.GreaterThan(Vector128.LoadUnsafe(ref x, i + (2 * count)), vThreshold)
                | Vector128.GreaterThan(Vector128.LoadUnsafe(ref x, i + (3 * count)), vThreshold);
            if (m != Vector128<float>.Zero)
            {
                break;
            }
        }

        for (; i < last; i += count)
        {
            var bits = Vector128.GreaterThan(Vector128.LoadUnsafe(ref x, i), vThreshold).ExtractMostSignificantBits();
            if (bits != 0)
            {
                return (int)i + BitOperations.TrailingZeroCount(bits);
            }
        }

        // The overlapping last vector only repeats lanes this call already found not greater.
        var tailBits = Vector128.GreaterThan(Vector128.LoadUnsafe(ref x, last), vThreshold).ExtractMostSignificantBits();
        return tailBits != 0 ? (int)last + BitOperations.TrailingZeroCount(tailBits) : -1;
    }
}
