using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>The body of <c>POST /v1/completions</c> (legacy completions), as OpenAI's API defines it.</summary>
internal sealed class CompletionRequest
{
    public string? Model { get; set; }

    /// <summary>A string, an array of one string, or an array of token ids.</summary>
    public JsonElement? Prompt { get; set; }

    public string? Suffix { get; set; }

    public int? MaxTokens { get; set; }

    public float? Temperature { get; set; }

    public float? TopP { get; set; }

    public int? N { get; set; }

    public int? BestOf { get; set; }

    public bool? Stream { get; set; }

    public StreamOptions? StreamOptions { get; set; }

    public int? Logprobs { get; set; }

    public bool? Echo { get; set; }

    [JsonConverter(typeof(StopSequencesConverter))]
    public List<string>? Stop { get; set; }

    public float? PresencePenalty { get; set; }

    public float? FrequencyPenalty { get; set; }

    public long? Seed { get; set; }

    public string? User { get; set; }

    /// <summary>Fields this class does not name.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
