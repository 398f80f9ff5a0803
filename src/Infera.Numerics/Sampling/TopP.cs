using System.Buffers;

namespace Infera.Numerics;

/// <summary>Top-p (nucleus) selection: the smallest set of most likely tokens whose probability mass reaches <c>p</c>.</summary>
/// <remarks>
/// Tokens are ranked by probability, larger first, equal probabilities by index, lower first (a stable descending
/// sort); the nucleus is the shortest prefix of that ranking whose running sum is &gt;= <c>p × total</c>.
/// Over a whole vocabulary, <see cref="Select(ReadOnlySpan{float}, float, Span{int})"/> first tries the 64, then the
/// 1024 most likely tokens with <see cref="TopK"/> (enough for the peaked distributions language models produce);
/// only when those do not reach the mass does it sort the whole span.
/// </remarks>
public static class TopP
{
    /// <summary>Returns how many leading entries of a descending span form the nucleus.</summary>
    /// <param name="sortedProbabilities">Non-negative probabilities sorted in descending order; they need not sum to 1.</param>
    /// <param name="p">The nucleus mass, in (0, 1].</param>
    /// <returns>The smallest <c>n</c> such that <c>Σ_{i&lt;n} sortedProbabilities[i] &gt;= p × Σ sortedProbabilities</c>, summed in order; 0 for an empty span.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not in (0, 1].</exception>
    public static int Count(ReadOnlySpan<float> sortedProbabilities, float p)
    {
        ValidateP(p);
        var total = 0f;
        foreach (var value in sortedProbabilities)
        {
            total += value;
        }

        return CountReaching(sortedProbabilities, p * total);
    }

    /// <summary>Writes the indices of the nucleus of <paramref name="probabilities"/>, most likely first, into <paramref name="destination"/>.</summary>
    /// <param name="probabilities">Non-negative probabilities in vocabulary order; they need not sum to 1 (for example <c>exp(logit - max)</c>).</param>
    /// <param name="p">The nucleus mass, in (0, 1].</param>
    /// <param name="destination">Receives the indices; as long as <paramref name="probabilities"/>, since the nucleus may hold every token.</param>
    /// <returns>The number of indices written.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not in (0, 1].</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public static int Select(ReadOnlySpan<float> probabilities, float p, Span<int> destination)
    {
        ValidateP(p);
        if (destination.Length < probabilities.Length)
        {
            ThrowHelper.ThrowDestinationTooShort(nameof(destination));
        }

        if (probabilities.IsEmpty)
        {
            return 0;
        }

        var total = SumAtLeastKernel.SumAtLeast(probabilities, 0f);
        return SelectReaching(probabilities, p * total, destination);
    }

    /// <summary>Nucleus of <paramref name="weights"/> for an absolute target mass; indices most likely first.</summary>
    internal static int SelectReaching(ReadOnlySpan<float> weights, float target, Span<int> destination)
    {
        for (var k = 64; k < weights.Length; k *= 16)
        {
            var count = TopK.Select(weights, k, destination);
            var cumulative = 0f;
            for (var i = 0; i < count; i++)
            {
                cumulative += weights[destination[i]];
                if (cumulative >= target)
                {
                    return i + 1;
                }
            }
        }

        return SelectBySorting(weights, target, destination);
    }

    internal static int CountReaching(ReadOnlySpan<float> sorted, float target)
    {
        var cumulative = 0f;
        for (var i = 0; i < sorted.Length; i++)
        {
            cumulative += sorted[i];
            if (cumulative >= target)
            {
                return i + 1;
            }
        }

        return sorted.Length;
    }

    /// <summary>A 64-bit key whose ascending order is value descending, then index ascending.</summary>
    internal static ulong DescendingKey(float value, int index)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        var ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
        return ((ulong)~ascending << 32) | (uint)index;
    }

    private static int SelectBySorting(ReadOnlySpan<float> weights, float target, Span<int> destination)
    {
        var keys = ArrayPool<ulong>.Shared.Rent(weights.Length);
        try
        {
            var span = keys.AsSpan(0, weights.Length);
            for (var i = 0; i < weights.Length; i++)
            {
                span[i] = DescendingKey(weights[i], i);
            }

            span.Sort();
            var cumulative = 0f;
            for (var i = 0; i < span.Length; i++)
            {
                var index = (int)(uint)span[i];
                destination[i] = index;
                cumulative += weights[index];
                if (cumulative >= target)
                {
                    return i + 1;
                }
            }

            return span.Length;
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keys);
        }
    }

    private static void ValidateP(float p)
    {
        if (!(p > 0f && p <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "p must be in (0, 1].");
        }
    }
}
