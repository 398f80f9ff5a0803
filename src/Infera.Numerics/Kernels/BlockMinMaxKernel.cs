using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Infera.Numerics;

/// <summary>Minimum and maximum of a non-empty span of finite values (the range of one quantization block).</summary>
internal static class BlockMinMaxKernel
{
    public static (float Min, float Max) MinMax(ReadOnlySpan<float> x)
    {
        ref var xRef = ref MemoryMarshal.GetReference(x);
        var length = (nuint)x.Length;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            return MinMaxVector512(ref xRef, length);
        }

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<float>.Count)
        {
            return MinMaxVector256(ref xRef, length);
        }

        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<float>.Count)
        {
            return MinMaxVector128(ref xRef, length);
        }

        return BlockQuantizer.MinMaxReference(x);
    }

    private static (float Min, float Max) MinMaxVector512(ref float x, nuint length)
    {
        var count = (nuint)Vector512<float>.Count;
        var last = length - count;
        var min = Vector512.LoadUnsafe(ref x, last);
        var max = min;
        for (nuint i = 0; i < last; i += count)
        {
            var v = Vector512.LoadUnsafe(ref x, i);
            min = Vector512.MinNative(min, v);
            max = Vector512.MaxNative(max, v);
        }

        var lo = min.GetElement(0);
        var hi = max.GetElement(0);
        for (var lane = 1; lane < Vector512<float>.Count; lane++)
        {
            lo = Math.Min(lo, min.GetElement(lane));
            hi = Math.Max(hi, max.GetElement(lane));
        }

        return (lo, hi);
    }

    private static (float Min, float Max) MinMaxVector256(ref float x, nuint length)
    {
        var count = (nuint)Vector256<float>.Count;
        var last = length - count;
        var min = Vector256.LoadUnsafe(ref x, last);
        var max = min;
        for (nuint i = 0; i < last; i += count)
        {
            var v = Vector256.LoadUnsafe(ref x, i);
            min = Vector256.MinNative(min, v);
            max = Vector256.MaxNative(max, v);
        }

        var lo = min.GetElement(0);
        var hi = max.GetElement(0);
        for (var lane = 1; lane < Vector256<float>.Count; lane++)
        {
            lo = Math.Min(lo, min.GetElement(lane));
            hi = Math.Max(hi, max.GetElement(lane));
        }

        return (lo, hi);
    }

    private static (float Min, float Max) MinMaxVector128(ref float x, nuint length)
    {
        var count = (nuint)Vector128<float>.Count;
        var last = length - count;
        var min = Vector128.LoadUnsafe(ref x, last);
        var max = min;
        for (nuint i = 0; i < last; i += count)
        {
            var v = Vector128.LoadUnsafe(ref x, i);
            min = Vector128.MinNative(min, v);
            max = Vector128.MaxNative(max, v);
        }

        var lo = min.GetElement(0);
        var hi = max.GetElement(0);
        for (var lane = 1; lane < Vector128<float>.Count; lane++)
        {
            lo = Math.Min(lo, min.GetElement(lane));
            hi = Math.Max(hi, max.GetElement(lane));
        }

        return (lo, hi);
    }
}
