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
    /// Gets or sets the number of threads one CPU operator may use. <see langword="null"/> (the default) uses every
    /// processor the process may run on (<see cref="Environment.ProcessorCount"/>), since ONNX Runtime GenAI otherwise
    /// runs a model on one core.
    /// </summary>
    public int? IntraOpThreads { get; set; }

    /// <summary>Gets or sets how many requests generate at the same time. The default is 4.</summary>
    public int MaxConcurrentRequests { get; set; } = 4;

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
    /// Gets or sets a value indicating whether concurrent requests may be batched through ONNX Runtime GenAI's Engine
    /// (see <see cref="Infera.SchedulingMode.Batched"/>). The default is <see langword="true"/>: models whose batched
    /// results equal their sequential ones (GroupQueryAttention models) are batched, others run one generator per request.
    /// </summary>
    public bool EnableBatching { get; set; } = true;

    /// <summary>Gets or sets the logger factory the runner logs through (for example which scheduling mode it chose). <see langword="null"/> (the default) logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal void Validate()
    {
        if (MaxConcurrentRequests < 1)
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

        if (ContextLength is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ContextLength), ContextLength, "ContextLength must be at least 1.");
        }
    }
}
