namespace Infera.Server;

/// <summary>The <c>function</c> of a tool call: its name and its arguments as a JSON text (in a stream delta, either may be absent).</summary>
internal sealed class ChatToolCallFunction
{
    public string? Name { get; init; }

    public string? Arguments { get; init; }
}
