using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>One choice of a <c>chat.completion.chunk</c>: the delta since the previous chunk.</summary>
internal sealed class ChatCompletionChunkChoice
{
    public int Index { get; init; }

    public required ChatCompletionDelta Delta { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public JsonElement? Logprobs { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }
}
