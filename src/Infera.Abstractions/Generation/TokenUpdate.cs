namespace Infera;

/// <summary>One generated token, as produced by <see cref="IModelRunner.GenerateAsync"/>.</summary>
public readonly record struct TokenUpdate
{
    /// <summary>Gets the generated token's id.</summary>
    public required int TokenId { get; init; }

    /// <summary>
    /// Gets the text this token adds to the output. Tokens that complete no character yet (part of a UTF-8
    /// sequence) and special tokens such as end-of-sequence add the empty string; the concatenation of all pieces
    /// equals the decoded output.
    /// </summary>
    public required string Text { get; init; }

    /// <summary>Gets the zero-based index of this token among the generated tokens.</summary>
    public required int Index { get; init; }

    /// <summary>Gets the number of prompt tokens the model processed for this request (after any truncation).</summary>
    public required int PromptTokenCount { get; init; }

    /// <summary>
    /// Gets how many of the <see cref="PromptTokenCount"/> prompt tokens were not computed for this request because their
    /// keys and values came from the runner's prefix cache (a leading part of the prompt shared with an earlier request).
    /// The prompt tokens the model computed are <c>PromptTokenCount - CachedPromptTokenCount</c>.
    /// </summary>
    public int CachedPromptTokenCount { get; init; }

    /// <summary>Gets why generation ended, on the last update only; <see langword="null"/> on every other update.</summary>
    public GenerationFinishReason? FinishReason { get; init; }

    /// <summary>Gets the token's log-probability and its most likely alternatives, when the request asked for them.</summary>
    public TokenLogProbabilities? LogProbabilities { get; init; }
}
