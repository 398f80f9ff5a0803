using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Infera.Numerics;

/// <summary>
/// Sum of the values that are &gt;= a threshold (NaN values never are). With a threshold of -infinity it is a
/// plain sum of non-NaN values; min-p uses it to measure the kept mass.
/// </summary>
internal static class SumAtLeastKernel
{
    public static float SumAtLeast(ReadOnlySpan<float> x, float threshold)
    {
        ref var xRef = ref MemoryMarshal.GetReference(x);
        var length = (nuint)x.Length;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            return SumAtLeastVector512(ref xRef, length, threshold);
        }

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<float>.Count)
        {
            return SumAtLeastVector256(ref xRef, length, threshold);
        }

        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<float>.Count)
        {
            return SumAtLeastVector128(ref xRef, length, threshold);
        }

        var sum = 0f;
        foreach (var value in x)
        {
            if (value >= threshold)
            {
                sum += value;
            }
        }

        return sum;
    }

    private static float SumAtLeastVector512(ref float x, nuint length, float threshold)
    {
        var count = (nuint)Vector512<float>.Count;
        var last = length - count;
        var vThreshold = Vector512.Create(threshold);
        var sum0 = Vector512<float>.Zero;
        var sum1 = Vector512<float>.Zero;
        nuint i = 0;
        for (; i + count < last; i += 2 * count)
        {
            var a = Vector512.LoadUnsafe(ref x, i);
            var b = Vector512.LoadUnsafe(ref x, i + count);
            sum0 += a & Vector512.GreaterThanOrEqual(a, vThreshold);
            sum1 += b & Vector512.GreaterThanOrEqual(b, vThreshold);
        }

        for (; i < last; i += count)
        {
            var a = Vector512.LoadUnsafe(ref x, i);
            sum0 += a & Vector512.GreaterThanOrEqual(a, vThreshold);
        }

        var tail = Vector512.LoadUnsafe(ref x, last);
        var fresh = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create((int)(i - last))).AsSingle();
        sum0 += tail & Vector512.GreaterThanOrEqual(tail, vThreshold) & fresh;
        return Vector512.Sum(sum0 + sum1);
    }

    private static float SumAtLeastVector256(ref float x, nuint length, float threshold)
    {
        var count = (nuint)Vector256<float>.Count;
        var last = length - count;
        var vThreshold = Vector256.Create(threshold);
        var sum0 = Vector256<float>.Zero;
        var sum1 = Vector256<float>.Zero;
        nuint i = 0;
        for (; i + count < last; i += 2 * count)
        {
            var a = Vector256.LoadUnsafe(ref x, i);
            var b = Vector256.LoadUnsafe(ref x, i + count);
            sum0 += a & Vector256.GreaterThanOrEqual(a, vThreshold);
            sum1 += b & Vector256.GreaterThanOrEqual(b, vThreshold);
        }

        for (; i < last; i += count)
        {
            var a = Vector256.LoadUnsafe(ref x, i);
            sum0 += a & Vector256.GreaterThanOrEqual(a, vThreshold);
        }

        var tail = Vector256.LoadUnsafe(ref x, last);
        var fresh = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create((int)(i - last))).AsSingle();
        sum0 += tail & Vector256.GreaterThanOrEqual(tail, vThreshold) & fresh;
        return Vector256.Sum(sum0 + sum1);
    }

    private static float SumAtLeastVector128(ref float x, nuint length, float threshold)
    {
        var count = (nuint)Vector128<float>.Count;
        var last = length - count;
        var vThreshold = Vector128.Create(threshold);
        var sum0 = Vector128<float>.Zero;
        var sum1 = Vector128<float>.Zero;
        nuint i = 0;
        for (; i + count < last; i += 2 * count)
        {
            var a = Vector128.LoadUnsafe(ref x, i);
            var b = Vector128.LoadUnsafe(ref x, i + count);
            sum0 += a & Vector128.GreaterThanOrEqual(a, vThreshold);
            sum1 += b & Vector128.GreaterThanOrEqual(b, vThreshold);
        }

        for (; i < last; i += count)
        {
            var a = Vector128.LoadUnsafe(ref x, i);
            sum0 += a & Vector128.GreaterThanOrEqual(a, vThreshold);
        }

        var tail = Vector128.LoadUnsafe(ref x, last);
        var fresh = Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create((int)(i - last))).AsSingle();
        sum0 += tail & Vector128.GreaterThanOrEqual(tail, vThreshold) & fresh;
        return Vector128.Sum(sum0 + sum1);
    }
}
