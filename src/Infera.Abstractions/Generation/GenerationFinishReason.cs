namespace Infera;

/// <summary>Why generation of a sequence ended.</summary>
public enum GenerationFinishReason
{
    /// <summary>The model produced an end-of-sequence token, or a stop token or stop sequence was matched.</summary>
    Stop,

    /// <summary>The token limit was reached: <see cref="GenerationOptions.MaxNewTokens"/> or the model's context length.</summary>
    Length,
}
