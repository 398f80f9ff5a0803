namespace Infera.Server;

/// <summary>One entry of <c>tools</c>: <c>{"type":"function","function":{"name","description","parameters","strict"}}</c>.</summary>
internal sealed class ChatRequestTool
{
    public string? Type { get; set; }

    public ChatRequestFunction? Function { get; set; }
}
