namespace Infera.ModelBuilder;

/// <summary>Specifies a decoder architecture of the Llama family that the model builder can write.</summary>
public enum ModelArchitecture
{
    /// <summary>Llama (and llama2.c): RMS normalization, rotary embedding, SwiGLU feed-forward, no biases.</summary>
    Llama,

    /// <summary>Mistral: the Llama layout with grouped-query attention and an optional sliding window.</summary>
    Mistral,

    /// <summary>Qwen2: the Llama layout with biases on the query, key and value projections.</summary>
    Qwen2,

    /// <summary>Phi-3: the Llama layout with fused query/key/value and fused gate/up projections.</summary>
    Phi3,
}
