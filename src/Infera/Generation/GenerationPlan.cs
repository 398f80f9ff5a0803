namespace Infera;

/// <summary>A request turned into what the token loop needs: prompt ids, limits and sampling choices, checked before any work starts.</summary>
internal sealed class GenerationPlan
{
    private GenerationPlan(int[] promptTokens, int maxNewTokens, GenerationOptions options, bool useInferaSampler, int vocabularySize)
    {
        PromptTokens = promptTokens;
        MaxNewTokens = maxNewTokens;
        Options = options;
        UseInferaSampler = useInferaSampler;
        VocabularySize = vocabularySize;
    }

    public int[] PromptTokens { get; }

    public int MaxNewTokens { get; }

    public int MaxLength => PromptTokens.Length + MaxNewTokens;

    public GenerationOptions Options { get; }

    public bool UseInferaSampler { get; }

    public int VocabularySize { get; }

    /// <param name="request">The request.</param>
    /// <param name="metadata">The model's metadata.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="samplingMode">The runner's sampling mode.</param>
    /// <param name="batched">Whether the runner batches requests through GenAI's Engine, whose search is GenAI's own.</param>
    public static GenerationPlan Create(GenerationRequest request, ModelMetadata metadata, ITokenizer tokenizer, SamplingMode samplingMode, bool batched = false)
    {
        var options = request.Options;
        options.Validate();

        var prompt = request.PromptTokens is { } ids
            ? [.. ids]
            : tokenizer.Encode(request.Prompt!, options.AddSpecialTokens);
        if (prompt.Length == 0)
        {
            throw new ArgumentException("The prompt is empty: it encodes to no tokens. Give at least one token (for example the model's BOS token).", nameof(request));
        }

        foreach (var id in prompt)
        {
            if ((uint)id >= (uint)metadata.VocabularySize)
            {
                throw new ArgumentOutOfRangeException(nameof(request), id, $"Prompt token id {id} is outside the model's vocabulary of {metadata.VocabularySize} tokens.");
            }
        }

        var context = metadata.ContextLength;
        var requested = options.MaxNewTokens ?? (context - prompt.Length);
        if (prompt.Length + requested > context || prompt.Length >= context)
        {
            switch (options.ContextOverflow)
            {
                case ContextOverflowPolicy.TruncatePromptStart when options.MaxNewTokens is int wanted && wanted < context:
                    prompt = TruncateStart(prompt, context - wanted, metadata.BosTokenId);
                    break;
                case ContextOverflowPolicy.LimitNewTokens when prompt.Length < context:
                    requested = context - prompt.Length;
                    break;
                default:
                    throw new ContextLengthExceededException(prompt.Length, Math.Max(requested, 1), context);
            }
        }

        if (requested < 1)
        {
            throw new ContextLengthExceededException(prompt.Length, 1, context);
        }

        var needsInferaSampler = options.FrequencyPenalty is not (null or 0f)
            || options.PresencePenalty is not (null or 0f)
            || options.MinP is not (null or 0f)
            || options.LogitBias is { Count: > 0 }
            || options.LogProbabilities
            || options.TopLogProbabilities is > 0;
        if (needsInferaSampler && samplingMode == SamplingMode.Native)
        {
            throw new NotSupportedException("The request needs Infera's sampler (min-p, frequency or presence penalty, logit bias or log-probabilities), but the runner is set to SamplingMode.Native.");
        }

        if (options.Constraint is not null)
        {
            // The constraint's token mask is applied inside ONNX Runtime GenAI's search, after the raw logits that
            // Infera's sampler reads: a constrained request must use the native search, whatever the runner's mode.
            if (needsInferaSampler)
            {
                throw new NotSupportedException("A decoding constraint (JSON schema, regex or grammar) cannot be combined with min-p, frequency or presence penalties, logit bias or log-probabilities: constrained requests use ONNX Runtime GenAI's search, which has none of these.");
            }

            return new GenerationPlan(prompt, requested, options, useInferaSampler: false, metadata.VocabularySize);
        }

        // Auto: Infera's sampler also takes sampled requests that run on their own generator (measured no slower than
        // GenAI's search, and much faster for top-p over the whole vocabulary: docs/benchmarks/numerics.md). Greedy
        // requests, requests that leave sampling to the model's defaults, and requests the Engine batches (unseeded
        // sampling on a batched runner) keep GenAI's search.
        var sampled = !options.IsGreedy && (options.Temperature is not null || options.TopP is not null || options.TopK is not null || options.Seed is not null);
        var preferInfera = samplingMode == SamplingMode.Auto && sampled && (!batched || options.Seed is not null);
        var useInfera = samplingMode == SamplingMode.Infera || needsInferaSampler || preferInfera;
        return new GenerationPlan(prompt, requested, options, useInfera, metadata.VocabularySize);
    }

    private static int[] TruncateStart(int[] prompt, int keep, int? bos)
    {
        if (keep < 1)
        {
            throw new ContextLengthExceededException(prompt.Length, 1, keep);
        }

        if (bos is int b && prompt[0] == b && keep >= 2)
        {
            return [b, .. prompt.AsSpan(prompt.Length - (keep - 1))];
        }

        return prompt[^keep..];
    }
}
