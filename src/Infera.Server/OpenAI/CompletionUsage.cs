namespace Infera.Server;

/// <summary><c>usage</c>: prompt, completion and total token counts.</summary>
internal sealed class CompletionUsage
{
    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }

    public int TotalTokens { get; init; }

    public static CompletionUsage Create(int promptTokens, int completionTokens) =>
        new() { PromptTokens = promptTokens, CompletionTokens = completionTokens, TotalTokens = promptTokens + completionTokens };
}
