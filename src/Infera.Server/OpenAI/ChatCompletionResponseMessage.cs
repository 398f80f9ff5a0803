using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>The assistant message of a <c>chat.completion</c> choice.</summary>
internal sealed class ChatCompletionResponseMessage
{
    public string Role { get; init; } = "assistant";

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Content { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Refusal { get; set; }

    /// <summary>The calls the model made (omitted when it made none); <c>content</c> is then null.</summary>
    public List<ChatToolCall>? ToolCalls { get; set; }
}
