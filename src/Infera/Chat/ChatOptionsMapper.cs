using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Infera;

/// <summary>Turns <see cref="ChatOptions"/> into <see cref="GenerationOptions"/>, rejecting out-of-range values with the name of the <see cref="ChatOptions"/> property.</summary>
/// <remarks>
/// <see cref="ChatOptions.AdditionalProperties"/> keys understood: <c>repetition_penalty</c>, <c>min_p</c>,
/// <c>logit_bias</c> (token id to bias), <c>logprobs</c> (bool), <c>top_logprobs</c> (0–20), and <c>context_overflow</c>
/// (<c>throw</c>, <c>truncate_prompt_start</c>, <c>limit_new_tokens</c>).
/// </remarks>
internal static class ChatOptionsMapper
{
    public static GenerationOptions Map(ChatOptions? chat, InferaChatClientOptions clientOptions)
    {
        var options = new GenerationOptions { ContextOverflow = clientOptions.ContextOverflow };
        if (chat is null)
        {
            return options;
        }

        Check(chat.MaxOutputTokens is null or > 0, nameof(ChatOptions.MaxOutputTokens), chat.MaxOutputTokens, "must be at least 1");
        Check(chat.Temperature is null or (>= 0f and <= 2f), nameof(ChatOptions.Temperature), chat.Temperature, "must be between 0 and 2");
        Check(chat.TopP is null or (> 0f and <= 1f), nameof(ChatOptions.TopP), chat.TopP, "must be greater than 0 and at most 1");
        Check(chat.TopK is null or > 0, nameof(ChatOptions.TopK), chat.TopK, "must be at least 1");
        Check(chat.FrequencyPenalty is null or (>= -2f and <= 2f), nameof(ChatOptions.FrequencyPenalty), chat.FrequencyPenalty, "must be between -2 and 2");
        Check(chat.PresencePenalty is null or (>= -2f and <= 2f), nameof(ChatOptions.PresencePenalty), chat.PresencePenalty, "must be between -2 and 2");

        options.MaxNewTokens = chat.MaxOutputTokens;
        options.Temperature = chat.Temperature;
        options.TopP = chat.TopP;
        options.TopK = chat.TopK;
        options.Seed = chat.Seed;
        options.FrequencyPenalty = chat.FrequencyPenalty;
        options.PresencePenalty = chat.PresencePenalty;

        if (chat.AdditionalProperties is { } extra)
        {
            options.RepetitionPenalty = ReadFloat(extra, "repetition_penalty");
            options.MinP = ReadFloat(extra, "min_p");
            options.TopLogProbabilities = ReadInt(extra, "top_logprobs");
            options.LogProbabilities = ReadBool(extra, "logprobs") ?? false;
            options.LogitBias = ReadLogitBias(extra);
            if (extra.TryGetValue("context_overflow", out var overflow) && overflow is not null)
            {
                options.ContextOverflow = overflow.ToString() switch
                {
                    "throw" => ContextOverflowPolicy.Throw,
                    "truncate_prompt_start" => ContextOverflowPolicy.TruncatePromptStart,
                    "limit_new_tokens" => ContextOverflowPolicy.LimitNewTokens,
                    var other => throw new ArgumentOutOfRangeException("context_overflow", other, "context_overflow must be throw, truncate_prompt_start or limit_new_tokens."),
                };
            }

            options.AdditionalProperties = new Dictionary<string, object?>(extra);
        }

        options.Validate();
        return options;
    }

    private static void Check(bool condition, string name, object? value, string rule)
    {
        if (!condition)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} {rule}; it was {value}.");
        }
    }

    private static float? ReadFloat(AdditionalPropertiesDictionary extra, string key) =>
        extra.TryGetValue(key, out var value) && value is not null ? Convert(key, "a number", () => System.Convert.ToSingle(Unwrap(value, key), CultureInfo.InvariantCulture)) : null;

    private static int? ReadInt(AdditionalPropertiesDictionary extra, string key) =>
        extra.TryGetValue(key, out var value) && value is not null ? Convert(key, "an integer", () => System.Convert.ToInt32(Unwrap(value, key), CultureInfo.InvariantCulture)) : null;

    private static bool? ReadBool(AdditionalPropertiesDictionary extra, string key) =>
        extra.TryGetValue(key, out var value) && value is not null ? Convert(key, "a boolean", () => System.Convert.ToBoolean(Unwrap(value, key), CultureInfo.InvariantCulture)) : null;

    // A value of the wrong type is the caller's mistake: an ArgumentException naming the key, never a FormatException from deep inside.
    private static T Convert<T>(string key, string expected, Func<T> convert)
    {
        try
        {
            return convert();
        }
        catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException)
        {
            throw new ArgumentException($"{key} must be {expected}.", key, ex);
        }
    }

    private static object Unwrap(object value, string key) => value switch
    {
        JsonElement { ValueKind: JsonValueKind.Number } e => e.GetDouble(),
        JsonElement { ValueKind: JsonValueKind.True } => true,
        JsonElement { ValueKind: JsonValueKind.False } => false,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString()!,
        JsonElement e => throw new ArgumentOutOfRangeException(key, e.ToString(), $"{key} has an unsupported JSON value."),
        _ => value,
    };

    private static Dictionary<int, float>? ReadLogitBias(AdditionalPropertiesDictionary extra)
    {
        if (!extra.TryGetValue("logit_bias", out var value) || value is null)
        {
            return null;
        }

        var result = new Dictionary<int, float>();
        switch (value)
        {
            case IEnumerable<KeyValuePair<int, float>> typed:
                foreach (var (k, v) in typed)
                {
                    result[k] = v;
                }

                break;
            case IEnumerable<KeyValuePair<string, object?>> loose:
                foreach (var (k, v) in loose)
                {
                    result[TokenId(k)] = Convert("logit_bias", "a map of token ids to numbers", () => System.Convert.ToSingle(Unwrap(v!, "logit_bias"), CultureInfo.InvariantCulture));
                }

                break;
            case JsonElement { ValueKind: JsonValueKind.Object } json:
                foreach (var property in json.EnumerateObject())
                {
                    result[TokenId(property.Name)] = property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetSingle(out var bias)
                        ? bias
                        : throw new ArgumentException($"logit_bias values must be numbers (token id {property.Name}).", "logit_bias");
                }

                break;
            default:
                throw new ArgumentOutOfRangeException("logit_bias", value, "logit_bias must map token ids to numbers.");
        }

        return result;
    }

    private static int TokenId(string key) => int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
        ? id
        : throw new ArgumentException($"logit_bias keys must be token ids (non-negative integers); '{key}' is not one.", "logit_bias");
}
