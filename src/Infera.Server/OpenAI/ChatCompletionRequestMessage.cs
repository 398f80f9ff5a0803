using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>One message of a chat completion request: <c>role</c>, <c>content</c> (a string or an array of text parts), <c>name</c>, an assistant's <c>tool_calls</c> and a tool message's <c>tool_call_id</c>.</summary>
internal sealed class ChatCompletionRequestMessage
{
    public string? Role { get; set; }

    /// <summary>A string or an array of text parts; read by <see cref="ChatRequestMapper"/>.</summary>
    public JsonElement? Content { get; set; }

    public string? Name { get; set; }

    public List<ChatRequestToolCall>? ToolCalls { get; set; }

    public string? ToolCallId { get; set; }

    /// <summary>An assistant's earlier refusal; accepted and not rendered.</summary>
    public string? Refusal { get; set; }

    /// <summary>Fields this class does not name: ignored.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
