namespace Infera.ModelBuilder;

/// <summary>Describes a model folder that a conversion or creation wrote.</summary>
public sealed class ConversionResult
{
    /// <summary>Gets the full path of the written model folder.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Gets the precision of the written weights.</summary>
    public required ModelPrecision Precision { get; init; }

    /// <summary>Gets the operators the graph uses.</summary>
    public required GraphStyle GraphStyle { get; init; }

    /// <summary>Gets the model type written to <c>genai_config.json</c> (for example <c>llama</c> or <c>qwen2</c>).</summary>
    public required string ModelType { get; init; }

    /// <summary>Gets the hidden size.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Gets the number of decoder layers.</summary>
    public required int LayerCount { get; init; }

    /// <summary>Gets the number of attention heads.</summary>
    public required int HeadCount { get; init; }

    /// <summary>Gets the number of key/value heads.</summary>
    public required int KeyValueHeadCount { get; init; }

    /// <summary>Gets the source model's head size.</summary>
    public required int HeadSize { get; init; }

    /// <summary>Gets the head size in the graph and key/value cache (padded to a multiple of 16 for the fused graph).</summary>
    public required int GraphHeadSize { get; init; }

    /// <summary>Gets the vocabulary size.</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Gets the context length.</summary>
    public required int ContextLength { get; init; }

    /// <summary>Gets the total size of the written files, in bytes.</summary>
    public required long TotalBytes { get; init; }

    /// <summary>Gets how long the conversion took.</summary>
    public required TimeSpan Elapsed { get; init; }
}
