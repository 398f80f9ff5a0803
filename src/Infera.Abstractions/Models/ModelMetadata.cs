namespace Infera;

/// <summary>What is known about a loaded model.</summary>
public sealed class ModelMetadata
{
    /// <summary>Gets the model's identifier: by default the name of its folder.</summary>
    public required string ModelId { get; init; }

    /// <summary>Gets the folder the model was loaded from.</summary>
    public required string ModelPath { get; init; }

    /// <summary>Gets the model's architecture type, as its configuration names it (for example <c>llama</c>, <c>gpt2</c>, <c>qwen2</c>).</summary>
    public required string ModelType { get; init; }

    /// <summary>Gets the context length: the most tokens, prompt and generated together, one sequence may hold.</summary>
    public required int ContextLength { get; init; }

    /// <summary>Gets the size of the model's vocabulary (the width of its logits).</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Gets the beginning-of-sequence token id, or <see langword="null"/> when the model has none.</summary>
    public int? BosTokenId { get; init; }

    /// <summary>Gets the end-of-sequence token ids.</summary>
    public required IReadOnlyList<int> EosTokenIds { get; init; }

    /// <summary>Gets the padding token id, or <see langword="null"/> when the model has none.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>Gets the execution provider actually in use (for example <c>cpu</c> or <c>cuda</c>).</summary>
    public required string ExecutionProvider { get; init; }

    /// <summary>Gets the number of threads the runtime uses for one operator on the CPU, or <see langword="null"/> when not applicable.</summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>Gets the attention implementation the model's graph uses (for example <c>GroupQueryAttention</c>), or <see langword="null"/> when unknown.</summary>
    public string? AttentionOperator { get; init; }
}
