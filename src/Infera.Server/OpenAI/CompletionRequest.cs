using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>The body of <c>POST /v1/completions</c> (legacy completions), as OpenAI's API defines it, with vLLM's extra sampling fields.</summary>
/// <remarks>Typed and ranged like <see cref="ChatCompletionRequest"/>: a wrong field is a 400 naming it, while the body is read.</remarks>
internal sealed class CompletionRequest : ISamplingRequest
{
    public string? Model { get; set; }

    /// <summary>A string, an array of one string, or an array of token ids.</summary>
    public JsonElement? Prompt { get; set; }

    public string? Suffix { get; set; }

    [Range(1, int.MaxValue)]
    public int? MaxTokens { get; set; }

    [Range(0, 2)]
    public float? Temperature { get; set; }

    [Range(0, 1, MinimumIsExclusive = true)]
    public float? TopP { get; set; }

    [Range(1, 128)]
    public int? N { get; set; }

    [Range(1, 128)]
    public int? BestOf { get; set; }

    public bool? Stream { get; set; }

    public StreamOptions? StreamOptions { get; set; }

    [Range(0, 5)]
    public int? Logprobs { get; set; }

    public bool? Echo { get; set; }

    [JsonConverter(typeof(StopSequencesConverter))]
    public List<string>? Stop { get; set; }

    [Range(-2, 2)]
    public float? PresencePenalty { get; set; }

    [Range(-2, 2)]
    public float? FrequencyPenalty { get; set; }

    public long? Seed { get; set; }

    public string? User { get; set; }

    /// <summary>Token id (as a string key) to a bias between -100 and 100.</summary>
    [JsonConverter(typeof(LogitBiasConverter))]
    public Dictionary<int, float>? LogitBias { get; set; }

    /// <summary>vLLM's top-k: -1 or 0 consider every token.</summary>
    [Range(-1, int.MaxValue)]
    public int? TopK { get; set; }

    /// <summary>vLLM's min-p.</summary>
    [Range(0, 1)]
    public float? MinP { get; set; }

    /// <summary>vLLM's multiplicative repetition penalty.</summary>
    [Range(0, 100, MinimumIsExclusive = true)]
    public float? RepetitionPenalty { get; set; }

    /// <summary>Fields this class does not name: ignored.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
