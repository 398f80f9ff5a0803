namespace Infera.Server;

/// <summary>One entry of <c>message.tool_calls</c>: <c>{"id","type":"function","function":{"name","arguments"}}</c>.</summary>
internal sealed class ChatToolCall
{
    public required string Id { get; init; }

    public string Type { get; init; } = "function";

    public required ChatToolCallFunction Function { get; init; }
}
