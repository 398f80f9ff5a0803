using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Infera.Numerics;

/// <summary>
/// Index of the largest value, ties going to the lowest index; NaN values are ignored, and a span with no
/// comparable value (all NaN) gives 0. Two passes: the maximum, then the first index holding it.
/// </summary>
internal static class ArgMaxKernel
{
    public static int IndexOfMax(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty)
        {
            ThrowHelper.ThrowEmpty(nameof(x));
        }

        ref var xRef = ref MemoryMarshal.GetReference(x);
        var length = (nuint)x.Length;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            return IndexOfMaxVector512(ref xRef, length);
        }

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<float>.Count)
        {
            return IndexOfMaxVector256(ref xRef, length);
        }

        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<float>.Count)
        {
            return IndexOfMaxVector128(ref xRef, length);
        }

        var bestIndex = 0;
        var bestValue = float.NegativeInfinity;
        for (var i = 0; i < x.Length; i++)
        {
            if (x[i] > bestValue)
            {
                bestValue = x[i];
                bestIndex = i;
            }
        }

        // Only -infinity and NaN seen: the first -infinity, if any, is the answer.
        if (bestValue == float.NegativeInfinity)
        {
            var first = x.IndexOf(float.NegativeInfinity);
            return first < 0 ? 0 : first;
        }

        return bestIndex;
    }

    private static int IndexOfMaxVector512(ref float x, nuint length)
    {
        var count = (nuint)Vector512<float>.Count;
        var last = length - count;
        var best = Vector512.LoadUnsafe(ref x, last);
        best = Vector512.ConditionalSelect(Vector512.Equals(best, best), best, Vector512.Create(float.NegativeInfinity));
        for (nuint i = 0; i < last; i += count)
        {
            var v = Vector512.LoadUnsafe(ref x, i);
            best = Vector512.ConditionalSelect(Vector512.GreaterThan(v, best), v, best);
        }

        var max = best.GetElement(0);
        for (var lane = 1; lane < (int)count; lane++)
        {
            var value = best.GetElement(lane);
            if (value > max)
            {
                max = value;
            }
        }

        var target = Vector512.Create(max);
        for (nuint i = 0; i < last; i += count)
        {
            var bits = Vector512.Equals(Vector512.LoadUnsafe(ref x, i), target).ExtractMostSignificantBits();
            if (bits != 0)
            {
                return (int)i + BitOperations.TrailingZeroCount(bits);
            }
        }

        var tailBits = Vector512.Equals(Vector512.LoadUnsafe(ref x, last), target).ExtractMostSignificantBits();
        return tailBits != 0 ? (int)last + BitOperations.TrailingZeroCount(tailBits) : 0;
    }

    private static int IndexOfMaxVector256(ref float x, nuint length)
    {
        var count = (nuint)Vector256<float>.Count;
        var last = length - count;
        var best = Vector256.LoadUnsafe(ref x, last);
        best = Vector256.ConditionalSelect(Vector256.Equals(best, best), best, Vector256.Create(float.NegativeInfinity));
        for (nuint i = 0; i < last; i += count)
        {
            var v = Vector256.LoadUnsafe(ref x, i);
            best = Vector256.ConditionalSelect(Vector256.GreaterThan(v, best), v, best);
        }

        var max = best.GetElement(0);
        for (var lane = 1; lane < (int)count; lane++)
        {
            var value = best.GetElement(lane);
            if (value > max)
            {
                max = value;
            }
        }

        var target = Vector256.Create(max);
        for (nuint i = 0; i < last; i += count)
        {
            var bits = Vector256.Equals(Vector256.LoadUnsafe(ref x, i), target).ExtractMostSignificantBits();
            if (bits != 0)
            {
                return (int)i + BitOperations.TrailingZeroCount(bits);
            }
        }

        var tailBits = Vector256.Equals(Vector256.LoadUnsafe(ref x, last), target).ExtractMostSignificantBits();
        return tailBits != 0 ? (int)last + BitOperations.TrailingZeroCount(tailBits) : 0;
    }

    private static int IndexOfMaxVector128(ref float x, nuint length)
    {
        var count = (nuint)Vector128<float>.Count;
        var last = length - count;
        var best = Vector128.LoadUnsafe(ref x, last);
        best = Vector128.ConditionalSelect(Vector128.Equals(best, best), best, Vector128.Create(float.NegativeInfinity));
        for (nuint i = 0; i < last; i += count)
        {
            var v = Vector128.LoadUnsafe(ref x, i);
            best = Vector128.ConditionalSelect(Vector128.GreaterThan(v, best), v, best);
        }

        var max = best.GetElement(0);
        for (var lane = 1; lane < (int)count; lane++)
        {
            var value = best.GetElement(lane);
            if (value > max)
            {
                max = value;
            }
        }

        var target = Vector128.Create(max);
        for (nuint i = 0; i < last; i += count)
        {
            var bits = Vector128.Equals(Vector128.LoadUnsafe(ref x, i), target).ExtractMostSignificantBits();
            if (bits != 0)
            {
                return (int)i + BitOperations.TrailingZeroCount(bits);
            }
        }

        var tailBits = Vector128.Equals(Vector128.LoadUnsafe(ref x, last), target).ExtractMostSignificantBits();
        return tailBits != 0 ? (int)last + BitOperations.TrailingZeroCount(tailBits) : 0;
    }
}
