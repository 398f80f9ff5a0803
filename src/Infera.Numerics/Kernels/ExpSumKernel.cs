using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Infera.Numerics;

/// <summary><c>Σ exp((x[i] - offset) × scale)</c> without storing the terms: the core of log-sum-exp.</summary>
internal static class ExpSumKernel
{
    public static float Sum(ReadOnlySpan<float> x, float offset, float scale)
    {
        ref var xRef = ref MemoryMarshal.GetReference(x);
        var length = (nuint)x.Length;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            return SumVector512(ref xRef, length, offset, scale);
        }

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<float>.Count)
        {
            return SumVector256(ref xRef, length, offset, scale);
        }

        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<float>.Count)
        {
            return SumVector128(ref xRef, length, offset, scale);
        }

        var sum = 0.0;
        foreach (var value in x)
        {
            sum += VectorExp.Exp((value - offset) * scale);
        }

        return (float)sum;
    }

    private static float SumVector512(ref float x, nuint length, float offset, float scale)
    {
        var count = (nuint)Vector512<float>.Count;
        var vOffset = Vector512.Create(offset);
        var vScale = Vector512.Create(scale);
        var sum0 = Vector512<float>.Zero;
        var sum1 = Vector512<float>.Zero;
        var last = length - count;
        var total = 0.0;
        nuint i = 0;
        while (i + count < last)
        {
            // Float lanes are flushed into a double every 128 vectors, so long spans keep ~1e-7 relative accuracy.
            var end = Math.Min(last, i + (128 * count));
            for (; i + count < end; i += 2 * count)
            {
                sum0 += VectorExp.Exp((Vector512.LoadUnsafe(ref x, i) - vOffset) * vScale);
                sum1 += VectorExp.Exp((Vector512.LoadUnsafe(ref x, i + count) - vOffset) * vScale);
            }

            total += Vector512.Sum(sum0 + sum1);
            sum0 = Vector512<float>.Zero;
            sum1 = Vector512<float>.Zero;
        }

        for (; i < last; i += count)
        {
            sum0 += VectorExp.Exp((Vector512.LoadUnsafe(ref x, i) - vOffset) * vScale);
        }

        var eTail = VectorExp.Exp((Vector512.LoadUnsafe(ref x, last) - vOffset) * vScale);
        var fresh = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create((int)(i - last))).AsSingle();
        return (float)(total + Vector512.Sum(sum0 + (eTail & fresh)));
    }

    private static float SumVector256(ref float x, nuint length, float offset, float scale)
    {
        var count = (nuint)Vector256<float>.Count;
        var vOffset = Vector256.Create(offset);
        var vScale = Vector256.Create(scale);
        var sum0 = Vector256<float>.Zero;
        var sum1 = Vector256<float>.Zero;
        var last = length - count;
        var total = 0.0;
        nuint i = 0;
        while (i + count < last)
        {
            // Float lanes are flushed into a double every 128 vectors, so long spans keep ~1e-7 relative accuracy.
            var end = Math.Min(last, i + (128 * count));
            for (; i + count < end; i += 2 * count)
            {
                sum0 += VectorExp.Exp((Vector256.LoadUnsafe(ref x, i) - vOffset) * vScale);
                sum1 += VectorExp.Exp((Vector256.LoadUnsafe(ref x, i + count) - vOffset) * vScale);
            }

            total += Vector256.Sum(sum0 + sum1);
            sum0 = Vector256<float>.Zero;
            sum1 = Vector256<float>.Zero;
        }

        for (; i < last; i += count)
        {
            sum0 += VectorExp.Exp((Vector256.LoadUnsafe(ref x, i) - vOffset) * vScale);
        }

        var eTail = VectorExp.Exp((Vector256.LoadUnsafe(ref x, last) - vOffset) * vScale);
        var fresh = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create((int)(i - last))).AsSingle();
        return (float)(total + Vector256.Sum(sum0 + (eTail & fresh)));
    }

    private static float SumVector128(ref float x, nuint length, float offset, float scale)
    {
        var count = (nuint)Vector128<float>.Count;
        var vOffset = Vector128.Create(offset);
        var vScale = Vector128.Create(scale);
        var sum0 = Vector128<float>.Zero;
        var sum1 = Vector128<float>.Zero;
        var last = length - count;
        var total = 0.0;
        nuint i = 0;
        while (i + count < last)
        {
            // Float lanes are flushed into a double every 128 vectors, so long spans keep ~1e-7 relative accuracy.
            var end = Math.Min(last, i + (128 * count));
            for (; i + count < end; i += 2 * count)
            {
                sum0 += VectorExp.Exp((Vector128.LoadUnsafe(ref x, i) - vOffset) * vScale);
                sum1 += VectorExp.Exp((Vector128.LoadUnsafe(ref x, i + count) - vOffset) * vScale);
            }

            total += Vector128.Sum(sum0 + sum1);
            sum0 = Vector128<float>.Zero;
            sum1 = Vector128<float>.Zero;
        }

        for (; i < last; i += count)
        {
            sum0 += VectorExp.Exp((Vector128.LoadUnsafe(ref x, i) - vOffset) * vScale);
        }

        var eTail = VectorExp.Exp((Vector128.LoadUnsafe(ref x, last) - vOffset) * vScale);
        var fresh = Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create((int)(i - last))).AsSingle();
        return (float)(total + Vector128.Sum(sum0 + (eTail & fresh)));
    }
}
