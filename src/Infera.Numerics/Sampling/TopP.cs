using System.Buffers;

namespace Infera.Numerics;

/// <summary>Top-p (nucleus) selection: the smallest set of most likely tokens whose probability mass reaches <c>p</c>.</summary>
/// <remarks>
/// <para>
/// Tokens are ranked by probability, larger first, equal probabilities by index, lower first (a stable descending
/// sort); the nucleus is the shortest prefix of that ranking whose running sum is &gt;= <c>p × total</c>.
/// </para>
/// <para>
/// Over a whole vocabulary, <see cref="Select(ReadOnlySpan{float}, float, Span{int})"/> never sorts the vocabulary.
/// It first tries the 64 most likely tokens with <see cref="TopK"/>, which is enough for the peaked distributions
/// language models usually produce. Otherwise it builds a histogram of the probability mass over the top bits of
/// the probabilities' IEEE-754 representation (exponent and 6 mantissa bits, buckets about 1% wide), walks it from
/// the top to the bucket where the running mass reaches the target, and sorts only that bucket's members. Masses
/// are then summed per bucket rather than in rank order, so at a boundary the result may differ from a
/// sequential float sum by float rounding.
/// </para>
/// </remarks>
public static class TopP
{
    private const int HistogramShift = 17;
    private const int HistogramLength = (0x7F80_0000 >> HistogramShift) + 1;
    private const int FirstAttempt = 64;

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

    /// <summary>Writes the indices of the nucleus of <paramref name="probabilities"/>, in ascending index order, into <paramref name="destination"/>.</summary>
    /// <param name="probabilities">Non-negative, finite probabilities in vocabulary order; they need not sum to 1 (for example <c>exp(logit - max)</c>).</param>
    /// <param name="p">The nucleus mass, in (0, 1].</param>
    /// <param name="destination">Receives the indices; as long as <paramref name="probabilities"/>, since the nucleus may hold every token.</param>
    /// <returns>The number of indices written; at least 1 for a non-empty span.</returns>
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

    /// <summary>Nucleus of <paramref name="weights"/> for an absolute target mass; indices in ascending order.</summary>
    internal static int SelectReaching(ReadOnlySpan<float> weights, float target, Span<int> destination)
    {
        var count = TopK.Select(weights, FirstAttempt, destination);
        var cumulative = 0f;
        for (var i = 0; i < count; i++)
        {
            cumulative += weights[destination[i]];
            if (cumulative >= target)
            {
                destination[..(i + 1)].Sort();
                return i + 1;
            }
        }

        if (count == weights.Length)
        {
            destination[..count].Sort();
            return count;
        }

        var (boundaryValue, boundaryIndex) = FindBoundary(weights, target);
        var written = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            var w = weights[i];
            if (w > boundaryValue || (w == boundaryValue && i <= boundaryIndex))
            {
                destination[written++] = i;
            }
        }

        return written;
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

    /// <summary>The last (value, index) of the nucleus in rank order, found through a mass histogram.</summary>
    private static (float Value, int Index) FindBoundary(ReadOnlySpan<float> weights, float target)
    {
        var histogram = ArrayPool<double>.Shared.Rent(HistogramLength);
        try
        {
            var mass = histogram.AsSpan(0, HistogramLength);
            mass.Clear();
            foreach (var w in weights)
            {
                if (w > 0f)
                {
                    mass[(int)(BitConverter.SingleToUInt32Bits(w) >> HistogramShift)] += w;
                }
            }

            var above = 0.0;
            var bucket = HistogramLength - 1;
            var lowestNonEmpty = -1;
            for (; bucket >= 0; bucket--)
            {
                if (mass[bucket] > 0)
                {
                    lowestNonEmpty = bucket;
                    if (above + mass[bucket] >= target)
                    {
                        break;
                    }

                    above += mass[bucket];
                }
            }

            if (bucket < 0)
            {
                // Rounding kept the target out of reach: the nucleus is every token with positive probability.
                if (lowestNonEmpty < 0)
                {
                    return (float.PositiveInfinity, -1);
                }

                bucket = lowestNonEmpty;
                above -= mass[bucket];
            }

            return SortBucket(weights, (uint)bucket, above, target);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(histogram);
        }
    }

    private static (float Value, int Index) SortBucket(ReadOnlySpan<float> weights, uint bucket, double above, float target)
    {
        var members = 0;
        foreach (var w in weights)
        {
            if (w > 0f && BitConverter.SingleToUInt32Bits(w) >> HistogramShift == bucket)
            {
                members++;
            }
        }

        var keys = ArrayPool<ulong>.Shared.Rent(members);
        try
        {
            var span = keys.AsSpan(0, members);
            var written = 0;
            for (var i = 0; i < weights.Length; i++)
            {
                var w = weights[i];
                if (w > 0f && BitConverter.SingleToUInt32Bits(w) >> HistogramShift == bucket)
                {
                    span[written++] = DescendingKey(w, i);
                }
            }

            span.Sort();
            var cumulative = above;
            var index = 0;
            for (var j = 0; j < span.Length; j++)
            {
                index = (int)(uint)span[j];
                cumulative += weights[index];
                if (cumulative >= target)
                {
                    break;
                }
            }

            return (weights[index], index);
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
