using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Infera.Numerics;

/// <summary>
/// <c>exp(x)</c> for the softmax kernels: Cephes' <c>expf</c> (Moshier) argument reduction
/// <c>x = n ln 2 + r</c>, |r| &lt;= ln 2 / 2, and a degree-7 polynomial, scaled by <c>2^n</c> through the exponent bits.
/// About 1 ulp (relative error &lt; 2.5e-7) on [-87.3, 88.7]; below -87.3, -infinity included, it returns exactly 0.
/// Every width, and the scalar form, performs the same float operations in the same order without fused
/// multiply-add, so a given input gives the same bits on every machine.
/// </summary>
internal static class VectorExp
{
    private const float MinInput = -87.33654f;
    private const float MaxInput = 88.72283f;
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;
    private const float P0 = 1.9875691500E-4f;
    private const float P1 = 1.3981999507E-3f;
    private const float P2 = 8.3334519073E-3f;
    private const float P3 = 4.1665795894E-2f;
    private const float P4 = 1.6666665459E-1f;
    private const float P5 = 5.0000001201E-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        if (!(x >= MinInput))
        {
            return x < MinInput ? 0f : float.NaN;
        }

        var clamped = MathF.Min(x, MaxInput);
        var n = MathF.Round(clamped * Log2E);
        var r = clamped - (n * Ln2High) - (n * Ln2Low);
        var p = P0;
        p = (p * r) + P1;
        p = (p * r) + P2;
        p = (p * r) + P3;
        p = (p * r) + P4;
        p = (p * r) + P5;
        var y = (p * (r * r)) + r + 1f;
        return y * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var clamped = Vector512.MinNative(Vector512.MaxNative(x, Vector512.Create(MinInput)), Vector512.Create(MaxInput));
        var n = Vector512.Round(clamped * Vector512.Create(Log2E));
        var r = clamped - (n * Vector512.Create(Ln2High)) - (n * Vector512.Create(Ln2Low));
        var p = Vector512.Create(P0);
        p = (p * r) + Vector512.Create(P1);
        p = (p * r) + Vector512.Create(P2);
        p = (p * r) + Vector512.Create(P3);
        p = (p * r) + Vector512.Create(P4);
        p = (p * r) + Vector512.Create(P5);
        var y = (p * (r * r)) + r + Vector512<float>.One;
        var scale = ((Vector512.ConvertToInt32Native(n) + Vector512.Create(127)) << 23).AsSingle();
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(MinInput)), Vector512<float>.Zero, y * scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var clamped = Vector256.MinNative(Vector256.MaxNative(x, Vector256.Create(MinInput)), Vector256.Create(MaxInput));
        var n = Vector256.Round(clamped * Vector256.Create(Log2E));
        var r = clamped - (n * Vector256.Create(Ln2High)) - (n * Vector256.Create(Ln2Low));
        var p = Vector256.Create(P0);
        p = (p * r) + Vector256.Create(P1);
        p = (p * r) + Vector256.Create(P2);
        p = (p * r) + Vector256.Create(P3);
        p = (p * r) + Vector256.Create(P4);
        p = (p * r) + Vector256.Create(P5);
        var y = (p * (r * r)) + r + Vector256<float>.One;
        var scale = ((Vector256.ConvertToInt32Native(n) + Vector256.Create(127)) << 23).AsSingle();
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(MinInput)), Vector256<float>.Zero, y * scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        var clamped = Vector128.MinNative(Vector128.MaxNative(x, Vector128.Create(MinInput)), Vector128.Create(MaxInput));
        var n = Vector128.Round(clamped * Vector128.Create(Log2E));
        var r = clamped - (n * Vector128.Create(Ln2High)) - (n * Vector128.Create(Ln2Low));
        var p = Vector128.Create(P0);
        p = (p * r) + Vector128.Create(P1);
        p = (p * r) + Vector128.Create(P2);
        p = (p * r) + Vector128.Create(P3);
        p = (p * r) + Vector128.Create(P4);
        p = (p * r) + Vector128.Create(P5);
        var y = (p * (r * r)) + r + Vector128<float>.One;
        var scale = ((Vector128.ConvertToInt32Native(n) + Vector128.Create(127)) << 23).AsSingle();
        return Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128.Create(MinInput)), Vector128<float>.Zero, y * scale);
    }
}
