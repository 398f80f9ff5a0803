using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>One choice of a <c>chat.completion</c>.</summary>
internal sealed class ChatCompletionChoice
{
    public int Index { get; init; }

    public required ChatCompletionResponseMessage Message { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public JsonElement? Logprobs { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }
}
