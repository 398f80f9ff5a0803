namespace Infera.Server;

/// <summary>One entry of <c>delta.tool_calls</c> in a stream: the call's <c>index</c>, and on its first chunk its <c>id</c>, <c>type</c> and function name; then pieces of the arguments.</summary>
internal sealed class ChatToolCallDelta
{
    public required int Index { get; init; }

    public string? Id { get; init; }

    public string? Type { get; init; }

    public ChatToolCallFunction? Function { get; init; }
}
