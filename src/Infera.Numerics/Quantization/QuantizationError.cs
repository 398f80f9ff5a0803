using System.Numerics.Tensors;

namespace Infera.Numerics;

/// <summary>How far reconstructed values are from the originals.</summary>
/// <param name="MaxAbsolute">The largest absolute difference, <c>max |a - b|</c>.</param>
/// <param name="RootMeanSquare">The root-mean-square difference, <c>sqrt(Σ (a - b)² / n)</c>, accumulated in double precision.</param>
public readonly record struct QuantizationError(float MaxAbsolute, float RootMeanSquare)
{
    /// <summary>Measures the error of <paramref name="reconstructed"/> against <paramref name="original"/>.</summary>
    /// <param name="original">The original values.</param>
    /// <param name="reconstructed">The values after quantization and dequantization; the same length.</param>
    /// <returns>The maximum absolute and root-mean-square errors; zeros for empty spans.</returns>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static QuantizationError Measure(ReadOnlySpan<float> original, ReadOnlySpan<float> reconstructed)
    {
        if (original.Length != reconstructed.Length)
        {
            ThrowHelper.ThrowLengthMismatch(nameof(reconstructed), original.Length, reconstructed.Length);
        }

        if (original.IsEmpty)
        {
            return default;
        }

        Span<float> difference = stackalloc float[256];
        var maxAbsolute = 0f;
        var sumOfSquares = 0.0;
        for (var start = 0; start < original.Length; start += difference.Length)
        {
            var length = Math.Min(difference.Length, original.Length - start);
            var chunk = difference[..length];
            TensorPrimitives.Subtract(original.Slice(start, length), reconstructed.Slice(start, length), chunk);
            maxAbsolute = MathF.Max(maxAbsolute, MathF.Abs(TensorPrimitives.MaxMagnitude(chunk)));
            sumOfSquares += TensorPrimitives.SumOfSquares(chunk);
        }

        return new QuantizationError(maxAbsolute, (float)Math.Sqrt(sumOfSquares / original.Length));
    }
}
