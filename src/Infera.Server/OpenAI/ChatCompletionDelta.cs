namespace Infera.Server;

/// <summary>The <c>delta</c> of a chunk: the role on the first chunk, then content pieces or tool call pieces; empty on the chunk that finishes.</summary>
internal sealed class ChatCompletionDelta
{
    public string? Role { get; init; }

    public string? Content { get; init; }

    public List<ChatToolCallDelta>? ToolCalls { get; init; }
}
