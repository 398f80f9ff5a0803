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
        return SelectReaching(probabilities, p * total, System.Numerics.Tensors.TensorPrimitives.Max(probabilities), destination);
    }

    /// <summary>Nucleus of <paramref name="weights"/> for an absolute target mass; indices in ascending order.</summary>
    internal static int SelectReaching(ReadOnlySpan<float> weights, float target, float maxWeight, Span<int> destination)
    {
        if (TrySelectFew(weights, target, maxWeight, destination, out var count))
        {
            return count;
        }

        var (boundaryValue, boundaryIndex, _) = FindBoundary(weights, target);
        var written = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            // Branch-free: in a flat distribution about half the tokens are kept, in no predictable pattern.
            var w = weights[i];
            destination[written] = i;
            written += (w > boundaryValue) | ((w == boundaryValue) & (i <= boundaryIndex)) ? 1 : 0;
        }

        return written;
    }

    /// <summary>
    /// The nucleus when the <see cref="FirstAttempt"/> most likely tokens reach the target (indices ascending);
    /// skipped without a scan when even that many tokens of weight <paramref name="maxWeight"/> could not.
    /// </summary>
    internal static bool TrySelectFew(ReadOnlySpan<float> weights, float target, float maxWeight, Span<int> destination, out int count)
    {
        count = 0;
        if (weights.Length > FirstAttempt && FirstAttempt * maxWeight < target)
        {
            return false;
        }

        var candidates = TopK.Select(weights, FirstAttempt, destination);
        var cumulative = 0f;
        for (var i = 0; i < candidates; i++)
        {
            cumulative += weights[destination[i]];
            if (cumulative >= target)
            {
                count = i + 1;
                destination[..count].Sort();
                return true;
            }
        }

        if (candidates == weights.Length)
        {
            count = candidates;
            destination[..count].Sort();
            return true;
        }

        return false;
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

    /// <summary>
    /// The last (value, index) of the nucleus in rank order, found through a mass histogram, and whether a token
    /// after that index has exactly that value (so that a threshold alone would not describe the nucleus).
    /// </summary>
    internal static (float Value, int Index, bool TiesAfter) FindBoundary(ReadOnlySpan<float> weights, float target)
    {
        var massArray = ArrayPool<double>.Shared.Rent(HistogramLength);
        var countArray = ArrayPool<int>.Shared.Rent(HistogramLength);
        try
        {
            var mass = massArray.AsSpan(0, HistogramLength);
            var counts = countArray.AsSpan(0, HistogramLength);
            mass.Clear();
            counts.Clear();
            foreach (var w in weights)
            {
                // Zero and negative weights fall into buckets the walk below never reaches with mass.
                var bucket = (int)(BitConverter.SingleToUInt32Bits(w) >> HistogramShift);
                if (bucket < HistogramLength)
                {
                    mass[bucket] += w;
                    counts[bucket]++;
                }
            }

            var above = 0.0;
            var chosen = -1;
            var lowestNonEmpty = -1;
            for (var bucket = HistogramLength - 1; bucket > 0; bucket--)
            {
                if (mass[bucket] > 0)
                {
                    lowestNonEmpty = bucket;
                    if (above + mass[bucket] >= target)
                    {
                        chosen = bucket;
                        break;
                    }

                    above += mass[bucket];
                }
            }

            if (chosen < 0)
            {
                // Rounding kept the target out of reach: the nucleus is every token with positive probability.
                if (lowestNonEmpty < 0)
                {
                    return (float.PositiveInfinity, -1, false);
                }

                chosen = lowestNonEmpty;
                above -= mass[chosen];
            }

            return SortBucket(weights, (uint)chosen, counts[chosen], above, target);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(massArray);
            ArrayPool<int>.Shared.Return(countArray);
        }
    }

    private static (float Value, int Index, bool TiesAfter) SortBucket(ReadOnlySpan<float> weights, uint bucket, int members, double above, float target)
    {
        var keys = ArrayPool<ulong>.Shared.Rent(members);
        try
        {
            var span = keys.AsSpan(0, members);
            var written = 0;
            for (var i = 0; i < weights.Length && written < members; i++)
            {
                if (BitConverter.SingleToUInt32Bits(weights[i]) >> HistogramShift == bucket)
                {
                    span[written++] = DescendingKey(weights[i], i);
                }
            }

            span.Sort();
            var cumulative = above;
            var j = 0;
            for (; j < span.Length - 1; j++)
            {
                cumulative += weights[(int)(uint)span[j]];
                if (cumulative >= target)
                {
                    break;
                }
            }

            var index = (int)(uint)span[j];
            var tiesAfter = j + 1 < span.Length && weights[(int)(uint)span[j + 1]] == weights[index];
            return (weights[index], index, tiesAfter);
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
