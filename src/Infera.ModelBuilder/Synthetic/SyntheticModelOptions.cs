namespace Infera.ModelBuilder;

/// <summary>Represents the shape and seed of a random-weight model that <see cref="SyntheticModel"/> creates.</summary>
public sealed class SyntheticModelOptions
{
    /// <summary>Gets or sets the architecture. The default is <see cref="ModelArchitecture.Llama"/>.</summary>
    public ModelArchitecture Architecture { get; set; } = ModelArchitecture.Llama;

    /// <summary>Gets or sets the hidden size. The default is 64.</summary>
    public int HiddenSize { get; set; } = 64;

    /// <summary>Gets or sets the number of decoder layers. The default is 2.</summary>
    public int LayerCount { get; set; } = 2;

    /// <summary>Gets or sets the number of attention heads. The default is 4.</summary>
    public int HeadCount { get; set; } = 4;

    /// <summary>Gets or sets the number of key/value heads. The default is 2.</summary>
    public int KeyValueHeadCount { get; set; } = 2;

    /// <summary>Gets or sets the head size; <see langword="null"/> means hidden size / heads.</summary>
    public int? HeadSize { get; set; }

    /// <summary>Gets or sets the feed-forward size. The default is 172.</summary>
    public int IntermediateSize { get; set; } = 172;

    /// <summary>Gets or sets the vocabulary size: at least 259 (3 special tokens and 256 byte tokens). The default is 512.</summary>
    public int VocabularySize { get; set; } = 512;

    /// <summary>Gets or sets the context length. The default is 2048.</summary>
    public int ContextLength { get; set; } = 2048;

    /// <summary>Gets or sets whether the language-model head shares the embedding table. The default is <see langword="true"/>.</summary>
    public bool TiedEmbeddings { get; set; } = true;

    /// <summary>Gets or sets the seed of the weights: the same seed and shape give the same model, bit for bit. The default is 0.</summary>
    public int Seed { get; set; }

    /// <summary>Gets or sets the model's identifier, written into the folder's <c>infera_model.json</c>. The default is <c>infera-synthetic-random</c>.</summary>
    public string ModelId { get; set; } = "infera-synthetic-random";
}
