namespace Infera;

/// <summary>What happens when a prompt plus the requested new tokens do not fit in the model's context.</summary>
public enum ContextOverflowPolicy
{
    /// <summary>Throw <see cref="ContextLengthExceededException"/> before generation starts. The default.</summary>
    Throw,

    /// <summary>
    /// Drop tokens from the start of the prompt (after a leading BOS token, which is kept) until the prompt plus the
    /// requested new tokens fit. The number of dropped tokens is reported in <see cref="TokenUpdate.PromptTokenCount"/>.
    /// </summary>
    TruncatePromptStart,

    /// <summary>Generate fewer new tokens than requested: as many as fit after the prompt, finishing with <see cref="GenerationFinishReason.Length"/>. A prompt that does not fit on its own still throws.</summary>
    LimitNewTokens,
}
