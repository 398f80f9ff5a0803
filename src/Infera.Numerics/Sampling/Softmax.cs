using System.Numerics.Tensors;

namespace Infera.Numerics;

/// <summary>Numerically stable softmax over a span of logits.</summary>
/// <remarks>
/// Computes <c>destination[i] = exp((x[i] - max(x)) / T) / Σ_j exp((x[j] - max(x)) / T)</c>. Subtracting the
/// maximum keeps every exponent &lt;= 0, so large logits cannot overflow (unlike
/// <see cref="TensorPrimitives.SoftMax{T}(ReadOnlySpan{T}, Span{T})"/>, which gives NaN for <c>[100, 101, 99]</c>).
/// A NaN logit makes every output NaN; all logits -infinity also gives NaN.
/// </remarks>
public static class Softmax
{
    /// <summary>Writes the softmax of <paramref name="logits"/> into <paramref name="destination"/>.</summary>
    /// <param name="logits">The logits.</param>
    /// <param name="destination">Receives the probabilities; at least as long as <paramref name="logits"/>. It may be <paramref name="logits"/> itself.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short or partly overlaps <paramref name="logits"/>.</exception>
    public static void Compute(ReadOnlySpan<float> logits, Span<float> destination) => Compute(logits, destination, 1f);

    /// <summary>Writes the softmax of <paramref name="logits"/> divided by <paramref name="temperature"/> into <paramref name="destination"/>.</summary>
    /// <param name="logits">The logits.</param>
    /// <param name="destination">Receives the probabilities; at least as long as <paramref name="logits"/>. It may be <paramref name="logits"/> itself.</param>
    /// <param name="temperature">The temperature; must be finite and &gt; 0.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short or partly overlaps <paramref name="logits"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is not finite and positive.</exception>
    public static void Compute(ReadOnlySpan<float> logits, Span<float> destination, float temperature)
    {
        if (!(temperature > 0f) || float.IsPositiveInfinity(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Temperature must be finite and > 0.");
        }

        if (logits.IsEmpty)
        {
            return;
        }

        var max = TensorPrimitives.Max(logits);
        var sum = ScaledExpKernel.Compute(logits, max, 1f / temperature, destination);
        TensorPrimitives.Multiply(destination[..logits.Length], 1f / sum, destination);
    }
}
