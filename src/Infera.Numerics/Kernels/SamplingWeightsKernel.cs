using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Infera.Numerics;

/// <summary>
/// The sampler's unnormalized probabilities over a whole vocabulary: <c>destination[i] = 2^((x[i] - offset) × scale × log2 e)</c>,
/// returning their sum. Cheaper than <see cref="VectorExp"/> (no two-part ln 2 reduction): Cephes' <c>exp2f</c>
/// polynomial (Moshier) on <c>t - round(t)</c>, relative error about <c>2e-7 + |t| × 6e-8</c>, so below 2e-6 for every
/// weight above <c>2^-30</c> of the largest. Results below <c>2^-126</c> (-infinity included) are exactly 0. Every width,
/// and the scalar form, performs the same float operations in the same order without fused multiply-add, so a given
/// input gives the same bits on every machine. <c>destination</c> may be <c>x</c> itself but must not partly overlap it.
/// </summary>
internal static class SamplingWeightsKernel
{
    private const float Log2E = 1.44269504088896341f;
    private const float MinExponent = -126f;
    private const float MaxExponent = 127f;
    private const float P0 = 1.535336188319500E-4f;
    private const float P1 = 1.339887440266574E-3f;
    private const float P2 = 9.618437357674640E-3f;
    private const float P3 = 5.550332471162809E-2f;
    private const float P4 = 2.402264791363012E-1f;
    private const float P5 = 6.931472028550421E-1f;

    public static double Compute(ReadOnlySpan<float> x, float offset, float scale, Span<float> destination)
    {
        if (destination.Length < x.Length)
        {
            ThrowHelper.ThrowDestinationTooShort(nameof(destination));
        }

        ThrowHelper.ThrowIfPartialOverlap(x, destination);
        ref var xRef = ref MemoryMarshal.GetReference(x);
        ref var dRef = ref MemoryMarshal.GetReference(destination);
        var length = (nuint)x.Length;
        var log2Scale = scale * Log2E;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            return ComputeVector512(ref xRef, ref dRef, length, offset, log2Scale);
        }

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<float>.Count)
        {
            return ComputeVector256(ref xRef, ref dRef, length, offset, log2Scale);
        }

        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<float>.Count)
        {
            return ComputeVector128(ref xRef, ref dRef, length, offset, log2Scale);
        }

        var sum = 0.0;
        for (nuint i = 0; i < length; i++)
        {
            var e = Exp2((Unsafe.Add(ref xRef, i) - offset) * log2Scale);
            Unsafe.Add(ref dRef, i) = e;
            sum += e;
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Exp2(float t)
    {
        if (!(t >= MinExponent))
        {
            return t < MinExponent ? 0f : float.NaN;
        }

        var clamped = MathF.Min(t, MaxExponent);
        var n = MathF.Round(clamped);
        var f = clamped - n;
        var p = P0;
        p = (p * f) + P1;
        p = (p * f) + P2;
        p = (p * f) + P3;
        p = (p * f) + P4;
        p = (p * f) + P5;
        var y = (p * f) + 1f;
        return y * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp2(Vector512<float> t)
    {
        var clamped = Vector512.MinNative(t, Vector512.Create(MaxExponent));
        var n = Vector512.Round(clamped);
        var f = clamped - n;
        var p = Vector512.Create(P0);
        p = (p * f) + Vector512.Create(P1);
        p = (p * f) + Vector512.Create(P2);
        p = (p * f) + Vector512.Create(P3);
        p = (p * f) + Vector512.Create(P4);
        p = (p * f) + Vector512.Create(P5);
        var y = (p * f) + Vector512<float>.One;
        var scale = ((Vector512.ConvertToInt32Native(n) + Vector512.Create(127)) << 23).AsSingle();
        return Vector512.AndNot(y * scale, Vector512.LessThan(t, Vector512.Create(MinExponent)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Exp2(Vector256<float> t)
    {
        var clamped = Vector256.MinNative(t, Vector256.Create(MaxExponent));
        var n = Vector256.Round(clamped);
        var f = clamped - n;
        var p = Vector256.Create(P0);
        p = (p * f) + Vector256.Create(P1);
        p = (p * f) + Vector256.Create(P2);
        p = (p * f) + Vector256.Create(P3);
        p = (p * f) + Vector256.Create(P4);
        p = (p * f) + Vector256.Create(P5);
        var y = (p * f) + Vector256<float>.One;
        var scale = ((Vector256.ConvertToInt32Native(n) + Vector256.Create(127)) << 23).AsSingle();
        return Vector256.AndNot(y * scale, Vector256.LessThan(t, Vector256.Create(MinExponent)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Exp2(Vector128<float> t)
    {
        var clamped = Vector128.MinNative(t, Vector128.Create(MaxExponent));
        var n = Vector128.Round(clamped);
        var f = clamped - n;
        var p = Vector128.Create(P0);
        p = (p * f) + Vector128.Create(P1);
        p = (p * f) + Vector128.Create(P2);
        p = (p * f) + Vector128.Create(P3);
        p = (p * f) + Vector128.Create(P4);
        p = (p * f) + Vector128.Create(P5);
        var y = (p * f) + Vector128<float>.One;
        var scale = ((Vector128.ConvertToInt32Native(n) + Vector128.Create(127)) << 23).AsSingle();
        return Vector128.AndNot(y * scale, Vector128.LessThan(t, Vector128.Create(MinExponent)));
    }

    private static double ComputeVector512(ref float x, ref float destination, nuint length, float offset, float log2Scale)
    {
        var count = (nuint)Vector512<float>.Count;
        var vOffset = Vector512.Create(offset);
        var vScale = Vector512.Create(log2Scale);
        var last = length - count;

        // Loaded before the loop so that an in-place call still sees the original tail.
        var tail = Vector512.LoadUnsafe(ref x, last);
        var total = 0.0;
        nuint i = 0;
        while (i < last)
        {
            // Float lanes are flushed into a double every 1024 elements, so long spans keep ~1e-7 relative accuracy.
            var sum = Vector512<float>.Zero;
            var end = Math.Min(last, i + 1024);
            for (; i < end; i += count)
            {
                var e = Exp2((Vector512.LoadUnsafe(ref x, i) - vOffset) * vScale);
                e.StoreUnsafe(ref destination, i);
                sum += e;
            }

            total += Vector512.Sum(sum);
        }

        var eTail = Exp2((tail - vOffset) * vScale);
        eTail.StoreUnsafe(ref destination, last);

        // Lanes of the overlapping last vector that the loop already summed are masked out.
        var fresh = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create((int)(i - last))).AsSingle();
        return total + Vector512.Sum(eTail & fresh);
    }

    private static double ComputeVector256(ref float x, ref float destination, nuint length, float offset, float log2Scale)
    {
        var count = (nuint)Vector256<float>.Count;
        var vOffset = Vector256.Create(offset);
        var vScale = Vector256.Create(log2Scale);
        var last = length - count;

        // Loaded before the loop so that an in-place call still sees the original tail.
        var tail = Vector256.LoadUnsafe(ref x, last);
        var total = 0.0;
        nuint i = 0;
        while (i < last)
        {
            // Float lanes are flushed into a double every 1024 elements, so long spans keep ~1e-7 relative accuracy.
            var sum = Vector256<float>.Zero;
            var end = Math.Min(last, i + 1024);
            for (; i < end; i += count)
            {
                var e = Exp2((Vector256.LoadUnsafe(ref x, i) - vOffset) * vScale);
                e.StoreUnsafe(ref destination, i);
                sum += e;
            }

            total += Vector256.Sum(sum);
        }

        var eTail = Exp2((tail - vOffset) * vScale);
        eTail.StoreUnsafe(ref destination, last);

        // Lanes of the overlapping last vector that the loop already summed are masked out.
        var fresh = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create((int)(i - last))).AsSingle();
        return total + Vector256.Sum(eTail & fresh);
    }

    private static double ComputeVector128(ref float x, ref float destination, nuint length, float offset, float log2Scale)
    {
        var count = (nuint)Vector128<float>.Count;
        var vOffset = Vector128.Create(offset);
        var vScale = Vector128.Create(log2Scale);
        var last = length - count;

        // Loaded before the loop so that an in-place call still sees the original tail.
        var tail = Vector128.LoadUnsafe(ref x, last);
        var total = 0.0;
        nuint i = 0;
        while (i < last)
        {
            // Float lanes are flushed into a double every 1024 elements, so long spans keep ~1e-7 relative accuracy.
            var sum = Vector128<float>.Zero;
            var end = Math.Min(last, i + 1024);
            for (; i < end; i += count)
            {
                var e = Exp2((Vector128.LoadUnsafe(ref x, i) - vOffset) * vScale);
                e.StoreUnsafe(ref destination, i);
                sum += e;
            }

            total += Vector128.Sum(sum);
        }

        var eTail = Exp2((tail - vOffset) * vScale);
        eTail.StoreUnsafe(ref destination, last);

        // Lanes of the overlapping last vector that the loop already summed are masked out.
        var fresh = Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create((int)(i - last))).AsSingle();
        return total + Vector128.Sum(eTail & fresh);
    }
}
