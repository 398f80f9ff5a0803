namespace Infera.ModelBuilder;

/// <summary>The tensors of a Llama-family decoder. Matrices are in PyTorch <c>Linear</c> layout: [out features, in features].</summary>
internal enum WeightKind
{
    /// <summary>[vocabulary, hidden].</summary>
    Embedding,

    /// <summary>[hidden].</summary>
    AttentionNorm,

    /// <summary>[heads × head size, hidden].</summary>
    Query,

    /// <summary>[key/value heads × head size, hidden].</summary>
    Key,

    /// <summary>[key/value heads × head size, hidden].</summary>
    Value,

    /// <summary>[heads × head size].</summary>
    QueryBias,

    /// <summary>[key/value heads × head size].</summary>
    KeyBias,

    /// <summary>[key/value heads × head size].</summary>
    ValueBias,

    /// <summary>[hidden, heads × head size].</summary>
    AttentionOutput,

    /// <summary>[hidden].</summary>
    FeedForwardNorm,

    /// <summary>[intermediate, hidden].</summary>
    Gate,

    /// <summary>[intermediate, hidden].</summary>
    Up,

    /// <summary>[hidden, intermediate].</summary>
    Down,

    /// <summary>[hidden].</summary>
    FinalNorm,

    /// <summary>[vocabulary, hidden]; the embedding when tied.</summary>
    LanguageModelHead,
}
