namespace Infera.Numerics;

/// <summary>Logit penalties and biases, applied in place to the logits of the listed tokens only.</summary>
public static class Penalties
{
    /// <summary>
    /// Applies the Hugging Face repetition penalty: for each token, <c>logit / penalty</c> when the logit is &gt; 0,
    /// otherwise <c>logit × penalty</c> (so a penalty &gt; 1 always makes the token less likely).
    /// </summary>
    /// <param name="logits">The logits, changed in place.</param>
    /// <param name="tokenIds">The distinct ids of tokens seen in the prompt and the generated text; a repeated id is penalized again.</param>
    /// <param name="penalty">The penalty; finite and &gt; 0, 1 meaning none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="penalty"/> is out of range, or an id is outside <paramref name="logits"/>.</exception>
    public static void ApplyRepetition(Span<float> logits, ReadOnlySpan<int> tokenIds, float penalty)
    {
        if (!(penalty > 0f) || float.IsPositiveInfinity(penalty))
        {
            throw new ArgumentOutOfRangeException(nameof(penalty), penalty, "The repetition penalty must be finite and > 0.");
        }

        foreach (var id in tokenIds)
        {
            CheckId(id, logits.Length);
            ref var logit = ref logits[id];
            logit = logit > 0f ? logit / penalty : logit * penalty;
        }
    }

    /// <summary>
    /// Applies the OpenAI frequency and presence penalties:
    /// <c>logit -= count × frequencyPenalty + (count &gt; 0 ? presencePenalty : 0)</c> for each generated token.
    /// </summary>
    /// <param name="logits">The logits, changed in place.</param>
    /// <param name="tokenIds">The distinct ids of generated tokens.</param>
    /// <param name="counts">How often each token of <paramref name="tokenIds"/> was generated; the same length.</param>
    /// <param name="frequencyPenalty">The frequency penalty, in [-2, 2].</param>
    /// <param name="presencePenalty">The presence penalty, in [-2, 2].</param>
    /// <exception cref="ArgumentException"><paramref name="counts"/> and <paramref name="tokenIds"/> differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A penalty is out of range, or an id is outside <paramref name="logits"/>.</exception>
    public static void ApplyFrequencyAndPresence(Span<float> logits, ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> counts, float frequencyPenalty, float presencePenalty)
    {
        if (counts.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowLengthMismatch(nameof(counts), tokenIds.Length, counts.Length);
        }

        if (!(frequencyPenalty >= -2f && frequencyPenalty <= 2f))
        {
            throw new ArgumentOutOfRangeException(nameof(frequencyPenalty), frequencyPenalty, "The frequency penalty must be in [-2, 2].");
        }

        if (!(presencePenalty >= -2f && presencePenalty <= 2f))
        {
            throw new ArgumentOutOfRangeException(nameof(presencePenalty), presencePenalty, "The presence penalty must be in [-2, 2].");
        }

        for (var i = 0; i < tokenIds.Length; i++)
        {
            var count = counts[i];
            if (count > 0)
            {
                CheckId(tokenIds[i], logits.Length);
                logits[tokenIds[i]] -= (count * frequencyPenalty) + presencePenalty;
            }
        }
    }

    /// <summary>Adds OpenAI <c>logit_bias</c> values: <c>logits[tokenIds[i]] += biases[i]</c>.</summary>
    /// <param name="logits">The logits, changed in place.</param>
    /// <param name="tokenIds">The biased token ids.</param>
    /// <param name="biases">The bias of each token of <paramref name="tokenIds"/>; the same length.</param>
    /// <exception cref="ArgumentException"><paramref name="biases"/> and <paramref name="tokenIds"/> differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside <paramref name="logits"/>.</exception>
    public static void ApplyLogitBias(Span<float> logits, ReadOnlySpan<int> tokenIds, ReadOnlySpan<float> biases)
    {
        if (biases.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowLengthMismatch(nameof(biases), tokenIds.Length, biases.Length);
        }

        for (var i = 0; i < tokenIds.Length; i++)
        {
            CheckId(tokenIds[i], logits.Length);
            logits[tokenIds[i]] += biases[i];
        }
    }

    private static void CheckId(int id, int vocabularySize)
    {
        if ((uint)id >= (uint)vocabularySize)
        {
            ThrowIdOutOfRange(id, vocabularySize);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowIdOutOfRange(int id, int vocabularySize) =>
        throw new ArgumentOutOfRangeException("tokenIds", id, $"Token id {id} is outside the vocabulary [0, {vocabularySize}).");
}
