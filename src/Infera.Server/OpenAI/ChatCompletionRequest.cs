using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>The body of <c>POST /v1/chat/completions</c>, as OpenAI's API defines it (the fields this server reads).</summary>
internal sealed class ChatCompletionRequest
{
    public string? Model { get; set; }

    public List<ChatCompletionRequestMessage>? Messages { get; set; }

    public float? Temperature { get; set; }

    public float? TopP { get; set; }

    public int? MaxTokens { get; set; }

    public int? MaxCompletionTokens { get; set; }

    [JsonConverter(typeof(StopSequencesConverter))]
    public List<string>? Stop { get; set; }

    public long? Seed { get; set; }

    public float? FrequencyPenalty { get; set; }

    public float? PresencePenalty { get; set; }

    public int? N { get; set; }

    public bool? Stream { get; set; }

    public StreamOptions? StreamOptions { get; set; }

    public string? User { get; set; }

    public bool? Logprobs { get; set; }

    public int? TopLogprobs { get; set; }

    /// <summary>Fields this class does not name (for example <c>tools</c> or <c>response_format</c>), kept so that handlers can accept or refuse them.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
