using Microsoft.Extensions.Logging;

namespace Infera;

/// <summary>Options for loading a model with <see cref="OnnxModelRunner"/>.</summary>
public sealed class OnnxModelRunnerOptions
{
    /// <summary>Gets or sets the execution provider. <see langword="null"/> (the default) runs on the CPU.</summary>
    public ExecutionProvider? ExecutionProvider { get; set; }

    /// <summary>
    /// Gets or sets providers to try, in order, when <see cref="ExecutionProvider"/> is not available here.
    /// Empty by default: Infera never falls back to other hardware unless the app asks for it.
    /// </summary>
    public IList<ExecutionProvider> FallbackExecutionProviders { get; } = [];

    /// <summary>
    /// Gets or sets the number of threads one CPU operator may use (ONNX Runtime's <c>intra_op_num_threads</c>).
    /// <see langword="null"/> (the default) lets the model folder's <c>genai_config.json</c> session options decide when
    /// they set it; otherwise Infera chooses at load time: one thread for small models (under 32 MiB of model files,
    /// whose operators are too small to share out), every processor (<see cref="Environment.ProcessorCount"/>) for
    /// larger ones, shared among the Engines when requests are batched. <see cref="OnnxModelRunner.IntraOpThreadsReason"/>
    /// says which rule applied.
    /// </summary>
    public int? IntraOpThreads { get; set; }

    /// <summary>
    /// Gets or sets how many requests generate at the same time. <see langword="null"/> (the default) lets the runner
    /// choose (<see cref="OnnxModelRunner.MaxConcurrentRequests"/> says what it chose): 4 when each request runs its own
    /// generator; when requests are batched through GenAI's Engine (4 rows each), as many Engines as the thread count
    /// leaves processors for, at most 4 (a small model on one thread per operator gets one Engine per processor, a large
    /// model using every processor one Engine), so 4 to 16.
    /// </summary>
    public int? MaxConcurrentRequests { get; set; }

    /// <summary>Gets or sets how many requests may wait for a free slot before new ones are refused with <see cref="RequestQueueFullException"/>. The default is 64.</summary>
    public int MaxQueuedRequests { get; set; } = 64;

    /// <summary>Gets or sets the model's identifier. <see langword="null"/> (the default) uses the folder's name.</summary>
    public string? ModelId { get; set; }

    /// <summary>Gets or sets a context length smaller than the model's, to bound memory per request. <see langword="null"/> uses the model's.</summary>
    public int? ContextLength { get; set; }

    /// <summary>
    /// Gets or sets a chat template (Jinja, the format of <c>tokenizer_config.json</c>'s <c>chat_template</c>) that replaces the
    /// model's own. <see langword="null"/> (the default) uses the model's.
    /// </summary>
    public string? ChatTemplate { get; set; }

    /// <summary>
    /// Gets or sets when Infera samples tokens itself from the model's logits (with <c>Infera.Numerics</c>) instead of
    /// ONNX Runtime GenAI's built-in search. The default is <see cref="Infera.SamplingMode.Auto"/>.
    /// </summary>
    public SamplingMode SamplingMode { get; set; } = SamplingMode.Auto;

    /// <summary>
    /// Gets or sets a value indicating whether concurrent requests may be batched
    /// (see <see cref="Infera.SchedulingMode.Batched"/>). The default is <see langword="true"/>: models whose batched
    /// results equal their sequential ones (GroupQueryAttention models) are batched, others run one generator per request.
    /// </summary>
    public bool EnableBatching { get; set; } = true;

    /// <summary>
    /// Gets or sets what batches run on: <see langword="null"/> (the default) takes the environment variable
    /// <c>INFERA_BATCHING</c> (<c>engine</c> for GenAI's Engine), otherwise static-batch generators.
    /// </summary>
    internal BatchingKind? Batching { get; set; }

    /// <summary>Gets or sets the rows of one batch generator; <see langword="null"/> (the default) uses <see cref="OnnxModelRunner.DefaultGeneratorBatchRows"/>.</summary>
    internal int? BatchRows { get; set; }

    /// <summary>
    /// Gets or sets the memory, in bytes, that finished requests' key/value state may keep so that later requests whose
    /// prompts start the same way (a conversation's history, a shared system prompt) continue from it instead of
    /// computing it again. <see langword="null"/> (the default) sizes it from the model: room for two sequences as long
    /// as the context, at least 64 MiB and at most an eighth of the memory available. 0 turns the prefix cache off.
    /// Greedy output is the same with and without it (see <c>docs/prefix-cache.md</c>).
    /// </summary>
    public long? PrefixCacheBytes { get; set; }

    /// <summary>Gets or sets the logger factory the runner logs through (for example which scheduling mode it chose). <see langword="null"/> (the default) logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal void Validate()
    {
        if (MaxConcurrentRequests is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentRequests), MaxConcurrentRequests, "MaxConcurrentRequests must be at least 1.");
        }

        if (MaxQueuedRequests < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxQueuedRequests), MaxQueuedRequests, "MaxQueuedRequests must not be negative.");
        }

        if (IntraOpThreads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "IntraOpThreads must be at least 1.");
        }

        if (PrefixCacheBytes is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(PrefixCacheBytes), PrefixCacheBytes, "PrefixCacheBytes must not be negative (0 turns the prefix cache off).");
        }

        if (ContextLength is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ContextLength), ContextLength, "ContextLength must be at least 1.");
        }
    }
}
