namespace Infera.Server;

/// <summary><c>usage</c>: prompt, completion and total token counts, and how many prompt tokens came from the prefix cache.</summary>
internal sealed class CompletionUsage
{
    public int PromptTokens { get; init; }

    /// <summary>Gets <c>prompt_tokens_details</c> (<c>cached_tokens</c>: prompt tokens whose keys and values were reused, included in <see cref="PromptTokens"/>).</summary>
    public PromptTokensDetails PromptTokensDetails { get; init; } = new();

    public int CompletionTokens { get; init; }

    public int TotalTokens { get; init; }

    public static CompletionUsage Create(int promptTokens, int completionTokens, int cachedTokens = 0) =>
        new() { PromptTokens = promptTokens, CompletionTokens = completionTokens, TotalTokens = promptTokens + completionTokens, PromptTokensDetails = new() { CachedTokens = cachedTokens } };
}
