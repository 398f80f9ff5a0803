using System.Numerics.Tensors;

namespace Infera.Numerics;

/// <summary>Numerically stable log-softmax and log-sum-exp over a span of logits.</summary>
/// <remarks>
/// <c>LogSumExp(x) = max(x) + log Σ_i exp(x[i] - max(x))</c> and <c>LogSoftmax(x)[i] = x[i] - LogSumExp(x)</c>;
/// subtracting the maximum keeps every exponent &lt;= 0. A NaN logit makes the results NaN.
/// </remarks>
public static class LogSoftmax
{
    /// <summary>Writes <c>x[i] - LogSumExp(x)</c> into <paramref name="destination"/>.</summary>
    /// <param name="logits">The logits.</param>
    /// <param name="destination">Receives the log-probabilities; at least as long as <paramref name="logits"/>. It may be <paramref name="logits"/> itself.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short or partly overlaps <paramref name="logits"/>.</exception>
    public static void Compute(ReadOnlySpan<float> logits, Span<float> destination)
    {
        if (destination.Length < logits.Length)
        {
            ThrowHelper.ThrowDestinationTooShort(nameof(destination));
        }

        ThrowHelper.ThrowIfPartialOverlap(logits, destination);
        if (logits.IsEmpty)
        {
            return;
        }

        var logSumExp = LogSumExp(logits);
        TensorPrimitives.Subtract(logits, logSumExp, destination);
    }

    /// <summary>Returns <c>log Σ_i exp(x[i])</c>, computed without overflow.</summary>
    /// <param name="logits">The logits; must not be empty.</param>
    /// <returns>The log-sum-exp; -infinity when every logit is -infinity.</returns>
    /// <exception cref="ArgumentException"><paramref name="logits"/> is empty.</exception>
    public static float LogSumExp(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty)
        {
            ThrowHelper.ThrowEmpty(nameof(logits));
        }

        var max = TensorPrimitives.Max(logits);
        if (float.IsInfinity(max))
        {
            return max;
        }

        return max + MathF.Log(ExpSumKernel.Sum(logits, max, 1f));
    }
}
