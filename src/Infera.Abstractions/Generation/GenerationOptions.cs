namespace Infera;

/// <summary>Options that shape how tokens are generated. A <see langword="null"/> value means "the model's default".</summary>
/// <remarks>
/// Sampling settings not given here fall back to the model's own defaults (for ONNX Runtime GenAI models, the
/// <c>search</c> section of <c>genai_config.json</c>); Infera always sets every search option a request implies, so
/// a model default such as <c>top_k: 1</c> cannot silently turn sampling into greedy decoding.
/// </remarks>
public sealed class GenerationOptions
{
    /// <summary>Gets or sets the maximum number of new tokens to generate. The prompt is not counted. <see langword="null"/> means "up to the context length".</summary>
    public int? MaxNewTokens { get; set; }

    /// <summary>Gets or sets the sampling temperature, in [0, 2]. 0 selects greedy decoding (the arg-max token, ties to the lowest id).</summary>
    public float? Temperature { get; set; }

    /// <summary>Gets or sets nucleus sampling's probability mass, in (0, 1].</summary>
    public float? TopP { get; set; }

    /// <summary>Gets or sets how many of the most likely tokens sampling chooses from; at least 1.</summary>
    public int? TopK { get; set; }

    /// <summary>Gets or sets min-p: tokens whose probability is below <c>MinP × p(max)</c> are excluded; in [0, 1].</summary>
    public float? MinP { get; set; }

    /// <summary>Gets or sets the seed of the random source used for sampling. The same seed with the same options gives the same tokens.</summary>
    public long? Seed { get; set; }

    /// <summary>Gets or sets the repetition penalty with Hugging Face semantics (over prompt and generated tokens); greater than 0, 1 means none.</summary>
    public float? RepetitionPenalty { get; set; }

    /// <summary>Gets or sets the frequency penalty with OpenAI semantics (subtracted once per occurrence of a token among the generated tokens), in [-2, 2].</summary>
    public float? FrequencyPenalty { get; set; }

    /// <summary>Gets or sets the presence penalty with OpenAI semantics (subtracted once from every token that occurs among the generated tokens), in [-2, 2].</summary>
    public float? PresencePenalty { get; set; }

    /// <summary>Gets or sets OpenAI-style logit biases: token id to a value in [-100, 100] added to that token's logit.</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; set; }

    /// <summary>Gets or sets a value indicating whether each <see cref="TokenUpdate"/> reports the chosen token's log-probability.</summary>
    public bool LogProbabilities { get; set; }

    /// <summary>Gets or sets how many of the most likely alternatives each token reports with their log-probabilities, in [0, 20]. A value above 0 implies <see cref="LogProbabilities"/>.</summary>
    public int? TopLogProbabilities { get; set; }

    /// <summary>Gets or sets token ids that end generation (in addition to the model's end-of-sequence tokens).</summary>
    public IReadOnlyList<int>? StopTokenIds { get; set; }

    /// <summary>Gets or sets a value indicating whether a text prompt is encoded with the model's special tokens (such as BOS). The default is <see langword="true"/>.</summary>
    public bool AddSpecialTokens { get; set; } = true;

    /// <summary>Gets or sets what happens when the prompt plus <see cref="MaxNewTokens"/> exceed the context length. The default is <see cref="ContextOverflowPolicy.Throw"/>.</summary>
    public ContextOverflowPolicy ContextOverflow { get; set; } = ContextOverflowPolicy.Throw;

    /// <summary>Gets or sets a constraint that the generated text must match (a JSON Schema, regular expression or grammar), or <see langword="null"/> for free text.</summary>
    /// <remarks>Constrained requests are decoded by the runtime's own search; options that need another sampler (such as log-probabilities) may be rejected with them.</remarks>
    public DecodingConstraint? Constraint { get; set; }

    /// <summary>Gets or sets additional, provider-specific options.</summary>
    public IDictionary<string, object?>? AdditionalProperties { get; set; }

    /// <summary>Gets a value indicating whether these options ask for greedy decoding.</summary>
    public bool IsGreedy => Temperature is 0f || TopK is 1;

    /// <summary>Checks every option against its allowed range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public void Validate()
    {
        Check(MaxNewTokens is null or > 0, nameof(MaxNewTokens), MaxNewTokens, "must be at least 1");
        Check(Temperature is null or (>= 0f and <= 2f), nameof(Temperature), Temperature, "must be between 0 and 2");
        Check(TopP is null or (> 0f and <= 1f), nameof(TopP), TopP, "must be greater than 0 and at most 1");
        Check(TopK is null or > 0, nameof(TopK), TopK, "must be at least 1");
        Check(MinP is null or (>= 0f and <= 1f), nameof(MinP), MinP, "must be between 0 and 1");
        Check(RepetitionPenalty is null or > 0f, nameof(RepetitionPenalty), RepetitionPenalty, "must be greater than 0");
        Check(FrequencyPenalty is null or (>= -2f and <= 2f), nameof(FrequencyPenalty), FrequencyPenalty, "must be between -2 and 2");
        Check(PresencePenalty is null or (>= -2f and <= 2f), nameof(PresencePenalty), PresencePenalty, "must be between -2 and 2");
        Check(TopLogProbabilities is null or (>= 0 and <= 20), nameof(TopLogProbabilities), TopLogProbabilities, "must be between 0 and 20");
        if (LogitBias is not null)
        {
            foreach (var (token, bias) in LogitBias)
            {
                Check(token >= 0, nameof(LogitBias), token, "token ids must not be negative");
                Check(bias is >= -100f and <= 100f, nameof(LogitBias), bias, "biases must be between -100 and 100");
            }
        }

        foreach (var value in new[] { Temperature, TopP, MinP, RepetitionPenalty, FrequencyPenalty, PresencePenalty })
        {
            if (value is float f && !float.IsFinite(f))
            {
                throw new ArgumentOutOfRangeException(nameof(GenerationOptions), f, "Generation options must be finite numbers.");
            }
        }
    }

    /// <summary>Creates a shallow copy of these options.</summary>
    /// <returns>A new <see cref="GenerationOptions"/> with the same values.</returns>
    public GenerationOptions Clone() => (GenerationOptions)MemberwiseClone();

    private static void Check(bool condition, string name, object? value, string rule)
    {
        if (!condition)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} {rule}; it was {value}.");
        }
    }
}
