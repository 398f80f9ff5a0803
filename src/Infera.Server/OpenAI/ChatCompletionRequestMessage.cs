using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>One message of a chat completion request: <c>role</c>, <c>content</c> (a string or an array of parts) and <c>name</c>.</summary>
internal sealed class ChatCompletionRequestMessage
{
    public string? Role { get; set; }

    public JsonElement? Content { get; set; }

    public string? Name { get; set; }

    /// <summary>Fields this class does not name (for example <c>tool_calls</c> or <c>tool_call_id</c>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
