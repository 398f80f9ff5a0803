using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>One choice of a <c>text_completion</c>.</summary>
internal sealed class CompletionChoice
{
    public required string Text { get; init; }

    public int Index { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public JsonElement? Logprobs { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }
}
