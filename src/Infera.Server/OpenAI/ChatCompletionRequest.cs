using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>The body of <c>POST /v1/chat/completions</c>, as OpenAI's API defines it, with vLLM's extra sampling fields.</summary>
/// <remarks>
/// Every field is typed, and numbers carry their ranges: <see cref="RequestJson"/> answers a wrong type or a value out of
/// range with 400 naming the field while the body is read. Unknown fields are ignored; fields the server cannot honour
/// are typed as <see cref="JsonElement"/> and refused by <see cref="ChatRequestMapper"/> when present.
/// </remarks>
internal sealed class ChatCompletionRequest : ISamplingRequest
{
    public string? Model { get; set; }

    public List<ChatCompletionRequestMessage>? Messages { get; set; }

    [Range(0, 2)]
    public float? Temperature { get; set; }

    [Range(0, 1, MinimumIsExclusive = true)]
    public float? TopP { get; set; }

    [Range(1, int.MaxValue)]
    public int? MaxTokens { get; set; }

    [Range(1, int.MaxValue)]
    public int? MaxCompletionTokens { get; set; }

    [JsonConverter(typeof(StopSequencesConverter))]
    public List<string>? Stop { get; set; }

    public long? Seed { get; set; }

    [Range(-2, 2)]
    public float? FrequencyPenalty { get; set; }

    [Range(-2, 2)]
    public float? PresencePenalty { get; set; }

    [Range(1, 128)]
    public int? N { get; set; }

    public bool? Stream { get; set; }

    public StreamOptions? StreamOptions { get; set; }

    public string? User { get; set; }

    public bool? Logprobs { get; set; }

    [Range(0, 20)]
    public int? TopLogprobs { get; set; }

    /// <summary>Token id (as a string key) to a bias between -100 and 100.</summary>
    [JsonConverter(typeof(LogitBiasConverter))]
    public Dictionary<int, float>? LogitBias { get; set; }

    /// <summary>vLLM's top-k: -1 or 0 consider every token.</summary>
    [Range(-1, int.MaxValue)]
    public int? TopK { get; set; }

    /// <summary>vLLM's min-p.</summary>
    [Range(0, 1)]
    public float? MinP { get; set; }

    /// <summary>vLLM's (and Hugging Face's) multiplicative repetition penalty.</summary>
    [Range(0, 100, MinimumIsExclusive = true)]
    public float? RepetitionPenalty { get; set; }

    public ChatRequestResponseFormat? ResponseFormat { get; set; }

    public List<ChatRequestTool>? Tools { get; set; }

    /// <summary><c>none</c>, <c>auto</c>, <c>required</c> or <c>{"type":"function","function":{"name"}}</c>; read by <see cref="ChatToolsMapper"/>.</summary>
    public JsonElement? ToolChoice { get; set; }

    public bool? ParallelToolCalls { get; set; }

    /// <summary>Accepted and ignored, as by a server that stores nothing.</summary>
    public bool? Store { get; set; }

    /// <summary>Accepted and ignored.</summary>
    public Dictionary<string, string>? Metadata { get; set; }

    /// <summary>Accepted and ignored.</summary>
    public string? ServiceTier { get; set; }

    // Fields whose meaning the server does not implement: refused when present rather than ignored.
    public JsonElement? Functions { get; set; }

    public JsonElement? FunctionCall { get; set; }

    public JsonElement? Audio { get; set; }

    public JsonElement? Modalities { get; set; }

    public JsonElement? Prediction { get; set; }

    public JsonElement? WebSearchOptions { get; set; }

    /// <summary>Fields this class does not name: ignored.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
