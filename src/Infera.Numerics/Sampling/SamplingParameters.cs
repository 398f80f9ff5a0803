namespace Infera.Numerics;

/// <summary>
/// Per-request sampling settings for <see cref="LogitsSampler"/>. Every default means "off", so a
/// default instance samples from the model's unmodified distribution at temperature 1.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="LogitsSampler.Sample(Span{float})"/> applies the settings in this order: <see cref="LogitBias"/>,
/// <see cref="RepetitionPenalty"/>, <see cref="FrequencyPenalty"/> and <see cref="PresencePenalty"/>,
/// <see cref="Temperature"/>, <see cref="TopK"/>, <see cref="TopP"/>, <see cref="MinP"/>, then it draws a token
/// (or takes the arg-max when <see cref="Temperature"/> is 0).
/// </para>
/// <para>Instances are immutable and may be shared between requests and threads.</para>
/// </remarks>
public sealed class SamplingParameters
{
    /// <summary>The largest number of alternatives <see cref="TopLogProbabilities"/> may ask for.</summary>
    public const int MaxTopLogProbabilities = 20;

    /// <summary>Gets the default settings: temperature 1 and every filter and penalty off.</summary>
    public static SamplingParameters Default { get; } = new();

    /// <summary>
    /// Gets the temperature the logits are divided by before the filters. 0 selects greedy decoding:
    /// the arg-max, ties going to the lowest token id (as ONNX Runtime GenAI's greedy search does).
    /// Must be finite and &gt;= 0. The default is 1.
    /// </summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>
    /// Gets the number of most likely tokens kept before drawing; 0 turns the filter off. Values larger than
    /// the vocabulary keep everything. Equal logits are ordered by token id, the lower id first. The default is 0.
    /// </summary>
    public int TopK { get; init; }

    /// <summary>
    /// Gets the nucleus mass: the smallest set of most likely tokens whose probability reaches this value is kept.
    /// Must be in (0, 1]; 1 turns the filter off. The default is 1.
    /// </summary>
    public float TopP { get; init; } = 1f;

    /// <summary>
    /// Gets the min-p threshold: tokens whose probability is below <c>MinP</c> times the most likely token's
    /// probability are removed. Must be in [0, 1]; 0 turns the filter off. The default is 0.
    /// </summary>
    public float MinP { get; init; }

    /// <summary>
    /// Gets the repetition penalty with Hugging Face semantics: the logit of every token that occurs in the
    /// prompt or the generated text is divided by the penalty when positive and multiplied by it when negative.
    /// Must be finite and &gt; 0; 1 turns it off. The default is 1.
    /// </summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>
    /// Gets the frequency penalty with OpenAI semantics: <c>count × FrequencyPenalty</c> is subtracted from the
    /// logit of every token generated <c>count</c> times so far (the prompt does not count). Must be in [-2, 2].
    /// The default is 0.
    /// </summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>
    /// Gets the presence penalty with OpenAI semantics: it is subtracted once from the logit of every token
    /// generated at least once so far (the prompt does not count). Must be in [-2, 2]. The default is 0.
    /// </summary>
    public float PresencePenalty { get; init; }

    /// <summary>
    /// Gets the OpenAI <c>logit_bias</c>: values added to the logits of the given token ids before anything else.
    /// Values must be in [-100, 100]; -100 in practice bans a token and 100 forces it. The default is <see langword="null"/>.
    /// </summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>
    /// Gets how many most likely alternatives to report with each token, 0 to <see cref="MaxTopLogProbabilities"/>.
    /// The default is 0.
    /// </summary>
    /// <remarks>Log-probabilities are those of the model's own distribution; see <see cref="LogProbabilities"/>.</remarks>
    public int TopLogProbabilities { get; init; }

    /// <summary>Gets a value indicating whether to report the chosen token's log-probability. The default is <see langword="false"/>.</summary>
    /// <remarks>
    /// Reported log-probabilities are those of the model's raw distribution, <c>log softmax(logits)</c>, taken
    /// before logit bias, penalties, temperature and filters (as vLLM and the OpenAI API report them), so
    /// they do not depend on the sampling settings.
    /// </remarks>
    public bool LogProbabilities { get; init; }

    /// <summary>
    /// Gets the seed of the request's <see cref="SeededRandom"/>. Equal seeds and equal logits give equal tokens.
    /// 0 is an ordinary seed; callers that want varied output choose a random seed themselves.
    /// </summary>
    public ulong Seed { get; init; }

    /// <summary>Gets a value indicating whether sampling is greedy (<see cref="Temperature"/> is 0).</summary>
    public bool IsGreedy => Temperature == 0f;

    /// <summary>Checks every setting against its documented range.</summary>
    /// <param name="vocabularySize">The number of logits the model produces per step.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting, or <paramref name="vocabularySize"/>, is out of range; the exception names it.</exception>
    public void Validate(int vocabularySize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        if (!(Temperature >= 0f) || float.IsPositiveInfinity(Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be finite and >= 0.");
        }

        if (TopK < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must be >= 0 (0 turns it off).");
        }

        if (!(TopP > 0f && TopP <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "TopP must be in (0, 1].");
        }

        if (!(MinP >= 0f && MinP <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(MinP), MinP, "MinP must be in [0, 1].");
        }

        if (!(RepetitionPenalty > 0f) || float.IsPositiveInfinity(RepetitionPenalty))
        {
            throw new ArgumentOutOfRangeException(nameof(RepetitionPenalty), RepetitionPenalty, "RepetitionPenalty must be finite and > 0.");
        }

        if (!(FrequencyPenalty >= -2f && FrequencyPenalty <= 2f))
        {
            throw new ArgumentOutOfRangeException(nameof(FrequencyPenalty), FrequencyPenalty, "FrequencyPenalty must be in [-2, 2].");
        }

        if (!(PresencePenalty >= -2f && PresencePenalty <= 2f))
        {
            throw new ArgumentOutOfRangeException(nameof(PresencePenalty), PresencePenalty, "PresencePenalty must be in [-2, 2].");
        }

        if (TopLogProbabilities is < 0 or > MaxTopLogProbabilities)
        {
            throw new ArgumentOutOfRangeException(nameof(TopLogProbabilities), TopLogProbabilities, $"TopLogProbabilities must be in [0, {MaxTopLogProbabilities}].");
        }

        if (LogitBias is not null)
        {
            foreach (var (tokenId, bias) in LogitBias)
            {
                if ((uint)tokenId >= (uint)vocabularySize)
                {
                    throw new ArgumentOutOfRangeException(nameof(LogitBias), tokenId, $"LogitBias names token id {tokenId}, outside the vocabulary [0, {vocabularySize}).");
                }

                if (!(bias >= -100f && bias <= 100f))
                {
                    throw new ArgumentOutOfRangeException(nameof(LogitBias), bias, $"LogitBias value for token id {tokenId} must be in [-100, 100].");
                }
            }
        }
    }
}
