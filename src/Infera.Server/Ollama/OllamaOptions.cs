using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace Infera.Server;

/// <summary>
/// Ollama's <c>options</c> (and a Modelfile's <c>PARAMETER</c>s) read into Infera's sampling options, with a 400 naming the option for a
/// value of the wrong type. Ollama's "off" values are honoured: <c>num_predict</c> -1 or -2, <c>top_k</c> 0, <c>seed</c> -1,
/// <c>repeat_penalty</c> 1. Options that only tune Ollama's own runtime (<c>num_gpu</c>, <c>num_batch</c>, <c>use_mmap</c>, ...) are ignored.
/// </summary>
internal sealed partial class OllamaOptions
{
    public int? NumPredict { get; private set; }

    public int? NumCtx { get; private set; }

    public float? Temperature { get; private set; }

    public int? TopK { get; private set; }

    public float? TopP { get; private set; }

    public float? MinP { get; private set; }

    public long? Seed { get; private set; }

    public List<string> Stop { get; private set; } = [];

    public float? RepeatPenalty { get; private set; }

    public float? PresencePenalty { get; private set; }

    public float? FrequencyPenalty { get; private set; }

    /// <summary>Reads a model's Modelfile parameters, then the request's options over them.</summary>
    public static OllamaOptions Read(ModelCatalogEntry? entry, Dictionary<string, JsonElement>? options)
    {
        var result = new OllamaOptions();
        var modelStops = new List<string>();
        foreach (var (name, value) in entry?.Parameters ?? [])
        {
            if (name == "stop")
            {
                modelStops.Add(value);
                continue;
            }

            result.Set(name, ParameterValue(value));
        }

        result.Stop = modelStops;
        if (options is not null)
        {
            foreach (var (name, value) in options)
            {
                result.Set(name, value);
            }
        }

        return result;
    }

    /// <summary>Parses Ollama's <c>keep_alive</c>: a number of seconds or a Go duration ("5m", "1h30m", "300ms"); negative means forever.</summary>
    public static TimeSpan? KeepAlive(JsonElement? value)
    {
        if (value is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.Number)
        {
            var seconds = element.GetDouble();
            return seconds < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(seconds);
        }

        if (element.ValueKind == JsonValueKind.String && ParseDuration(element.GetString()!) is { } duration)
        {
            return duration < TimeSpan.Zero ? Timeout.InfiniteTimeSpan : duration;
        }

        throw OpenAIErrorException.BadRequest($"keep_alive must be a number of seconds or a duration such as \"5m\" or \"1h30m\" (negative keeps the model loaded); it was {element.GetRawText()}.", "keep_alive");
    }

    /// <summary>Maps a .NET parameter name from Infera's validation back to the Ollama option the client sent.</summary>
    public static string? JsonName(string? name) => name switch
    {
        null => null,
        "MaxOutputTokens" or "MaxNewTokens" => "options.num_predict",
        "Temperature" => "options.temperature",
        "TopP" => "options.top_p",
        "TopK" => "options.top_k",
        "Seed" => "options.seed",
        "MinP" or "min_p" => "options.min_p",
        "RepetitionPenalty" or "repetition_penalty" => "options.repeat_penalty",
        "FrequencyPenalty" => "options.frequency_penalty",
        "PresencePenalty" => "options.presence_penalty",
        "request" or "messages" or "prompt" => "messages",
        _ => ChatRequestMapper.SnakeCase(name),
    };

    /// <summary>Sets these options on chat options (sampling, limit, stop strings).</summary>
    public ChatOptions ToChatOptions()
    {
        var options = new ChatOptions
        {
            MaxOutputTokens = NumPredict,
            Temperature = Temperature,
            TopK = TopK,
            TopP = TopP,
            Seed = Seed,
            PresencePenalty = PresencePenalty,
            FrequencyPenalty = FrequencyPenalty,
            AdditionalProperties = [],
        };
        if (Stop.Count > 0)
        {
            options.StopSequences = Stop;
        }

        if (MinP is { } minP)
        {
            options.AdditionalProperties["min_p"] = minP;
        }

        if (RepeatPenalty is { } repeat)
        {
            options.AdditionalProperties["repetition_penalty"] = repeat;
        }

        return options;
    }

    /// <summary>Makes the runner's options for a raw prompt.</summary>
    public GenerationOptions ToGenerationOptions(ContextOverflowPolicy overflow)
    {
        var options = new GenerationOptions
        {
            MaxNewTokens = NumPredict,
            Temperature = Temperature,
            TopK = TopK,
            TopP = TopP,
            MinP = MinP,
            Seed = Seed,
            RepetitionPenalty = RepeatPenalty,
            PresencePenalty = PresencePenalty,
            FrequencyPenalty = FrequencyPenalty,
            ContextOverflow = overflow,
        };
        options.Validate();
        return options;
    }

    private static JsonElement ParameterValue(string text)
    {
        try
        {
            return JsonElement.Parse(text);
        }
        catch (JsonException)
        {
            return JsonElement.Parse(JsonSerializer.Serialize(text, OllamaJsonContext.Default.String));
        }
    }

    private void Set(string name, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        switch (name)
        {
            case "num_predict":
                var predict = Int(name, value);
                NumPredict = predict < 0 ? null : predict > 0 ? predict : throw OpenAIErrorException.BadRequest("options.num_predict must be -1 (no limit) or at least 1; it was 0.", "options.num_predict");
                break;
            case "num_ctx":
                var ctx = Int(name, value);
                NumCtx = ctx > 0 ? ctx : throw OpenAIErrorException.BadRequest($"options.num_ctx must be at least 1; it was {ctx}.", "options.num_ctx");
                break;
            case "temperature":
                Temperature = Float(name, value);
                break;
            case "top_k":
                TopK = Int(name, value) is var k and > 0 ? k : null;
                break;
            case "top_p":
                TopP = Float(name, value);
                break;
            case "min_p":
                MinP = Float(name, value) is var p and > 0f ? p : null;
                break;
            case "seed":
                Seed = Long(name, value) is var seed and >= 0 ? seed : null;
                break;
            case "stop":
                Stop = value.ValueKind switch
                {
                    JsonValueKind.String => [value.GetString()!],
                    JsonValueKind.Array when value.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String) => [.. value.EnumerateArray().Select(s => s.GetString()!).Where(s => s.Length > 0)],
                    _ => throw Wrong(name, "a string or an array of strings", value),
                };
                break;
            case "repeat_penalty":
                RepeatPenalty = Float(name, value) is var r and not 1f ? r : null;
                break;
            case "presence_penalty":
                PresencePenalty = Float(name, value) is var pp and not 0f ? pp : null;
                break;
            case "frequency_penalty":
                FrequencyPenalty = Float(name, value) is var fp and not 0f ? fp : null;
                break;
            default:
                // Runtime tuning that has no meaning here (num_gpu, num_batch, use_mmap, num_thread, num_keep, ...): ignored, as Ollama ignores unknown options.
                break;
        }
    }

    private static int Int(string name, JsonValue value) => value.Element.ValueKind == JsonValueKind.Number && value.Element.TryGetInt32(out var i) ? i : throw Wrong(name, "an integer", value.Element);

    private static long Long(string name, JsonValue value) => value.Element.ValueKind == JsonValueKind.Number && value.Element.TryGetInt64(out var i) ? i : throw Wrong(name, "an integer", value.Element);

    private static float Float(string name, JsonValue value) => value.Element.ValueKind == JsonValueKind.Number ? value.Element.GetSingle() : throw Wrong(name, "a number", value.Element);

    private static OpenAIErrorException Wrong(string name, string expected, JsonElement value) =>
        OpenAIErrorException.BadRequest($"options.{name} must be {expected}; it was {value.GetRawText()}.", "options." + name);

    private static TimeSpan? ParseDuration(string text)
    {
        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        var match = GoDuration().Match(text);
        if (!match.Success || text is "" or "-" or "+")
        {
            return null;
        }

        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unit = GoDurationPart().Match(part.Value);
            var amount = double.Parse(unit.Groups["n"].Value, CultureInfo.InvariantCulture);
            total += unit.Groups["u"].Value switch
            {
                "ns" => TimeSpan.FromTicks((long)(amount / 100)),
                "us" or "µs" or "μs" => TimeSpan.FromMicroseconds(amount),
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                _ => TimeSpan.FromHours(amount),
            };
        }

        return match.Groups["sign"].Value == "-" ? -total : total;
    }

    [GeneratedRegex(@"^(?<sign>[-+]?)(?<part>[0-9]*\.?[0-9]+(?:ns|us|µs|μs|ms|s|m|h))+$")]
    private static partial Regex GoDuration();

    [GeneratedRegex(@"^(?<n>[0-9]*\.?[0-9]+)(?<u>ns|us|µs|μs|ms|s|m|h)$")]
    private static partial Regex GoDurationPart();

    // Lets the readers above take a JsonElement without repeating the conversion at each call.
    private readonly record struct JsonValue(JsonElement Element)
    {
        public static implicit operator JsonValue(JsonElement element) => new(element);
    }
}
