namespace Infera.Server;

/// <summary>One entry of an assistant message's <c>tool_calls</c> in a request: <c>{"id","type":"function","function":{"name","arguments"}}</c>.</summary>
internal sealed class ChatRequestToolCall
{
    public string? Id { get; set; }

    public string? Type { get; set; }

    public ChatRequestFunctionCall? Function { get; set; }
}
