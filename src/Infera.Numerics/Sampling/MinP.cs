namespace Infera.Numerics;

/// <summary>Min-p filtering: keep the tokens whose probability is at least <c>minP</c> times the largest probability.</summary>
public static class MinP
{
    /// <summary>Returns how many leading entries of a descending span pass the min-p test.</summary>
    /// <param name="sortedProbabilities">Non-negative probabilities sorted in descending order; they need not sum to 1.</param>
    /// <param name="minP">The relative threshold, in [0, 1].</param>
    /// <returns>The number of leading entries with <c>probability &gt;= minP × sortedProbabilities[0]</c>; at least 1 for a non-empty span.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minP"/> is not in [0, 1].</exception>
    public static int Count(ReadOnlySpan<float> sortedProbabilities, float minP)
    {
        Validate(minP);
        if (sortedProbabilities.IsEmpty)
        {
            return 0;
        }

        var threshold = minP * sortedProbabilities[0];
        var count = 1;
        while (count < sortedProbabilities.Length && sortedProbabilities[count] >= threshold)
        {
            count++;
        }

        return count;
    }

    /// <summary>
    /// Sets to -infinity every logit whose probability at <paramref name="temperature"/> is below <paramref name="minP"/>
    /// times the largest, testing in the logit domain: <c>logit &gt;= max + temperature × ln(minP)</c>.
    /// </summary>
    /// <param name="logits">The logits, changed in place.</param>
    /// <param name="minP">The relative threshold, in [0, 1]; 0 keeps everything.</param>
    /// <param name="temperature">The temperature the probabilities are taken at; finite and &gt; 0.</param>
    /// <returns>The number of logits kept.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minP"/> or <paramref name="temperature"/> is out of range.</exception>
    public static int Apply(Span<float> logits, float minP, float temperature = 1f)
    {
        Validate(minP);
        if (!(temperature > 0f) || float.IsPositiveInfinity(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Temperature must be finite and > 0.");
        }

        if (logits.IsEmpty)
        {
            return 0;
        }

        var max = logits[ArgMaxKernel.IndexOfMax(logits)];
        var threshold = max + (temperature * MathF.Log(minP));
        var kept = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            if (logits[i] >= threshold)
            {
                kept++;
            }
            else
            {
                logits[i] = float.NegativeInfinity;
            }
        }

        return kept;
    }

    private static void Validate(float minP)
    {
        if (!(minP >= 0f && minP <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(minP), minP, "minP must be in [0, 1].");
        }
    }
}
