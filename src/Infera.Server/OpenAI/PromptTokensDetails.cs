namespace Infera.Server;

/// <summary><c>usage.prompt_tokens_details</c>: <c>cached_tokens</c>, the prompt tokens taken from the prefix cache instead of computed.</summary>
internal sealed class PromptTokensDetails
{
    public int CachedTokens { get; init; }
}
