using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Infera.Server;

/// <summary>Turns a chat completion request into Microsoft.Extensions.AI messages and <see cref="ChatOptions"/>, refusing what the server cannot honour with 400.</summary>
internal static class ChatRequestMapper
{
    public static List<ChatMessage> ToMessages(ChatCompletionRequest request)
    {
        if (request.Messages is not { Count: > 0 } messages)
        {
            throw OpenAIErrorException.BadRequest("messages must be a non-empty array of messages.", "messages");
        }

        var result = new List<ChatMessage>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i] ?? throw OpenAIErrorException.BadRequest("A message must be an object with a role and content.", string.Create(CultureInfo.InvariantCulture, $"messages[{i}]"));
            var role = message.Role switch
            {
                "system" or "developer" => ChatRole.System,
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                "tool" => ChatRole.Tool,
                null => throw OpenAIErrorException.BadRequest("Every message needs a role.", Param(i, "role")),
                var other => throw OpenAIErrorException.BadRequest($"'{other}' is not a valid role: use system, developer, user, assistant or tool.", Param(i, "role")),
            };
            if (role == ChatRole.Tool)
            {
                result.Add(ChatToolsMapper.ToolMessage(message, ReadText(message.Content, role, i), i, result));
                continue;
            }

            var chatMessage = new ChatMessage(role, ReadText(message.Content, role, i)) { AuthorName = message.Name };
            if (role == ChatRole.Assistant)
            {
                ChatToolsMapper.AddToolCalls(chatMessage, message, i);
            }

            result.Add(chatMessage);
        }

        return result;
    }

    public static ChatOptions ToOptions(ChatCompletionRequest request)
    {
        if (request.N is { } n && n != 1)
        {
            throw OpenAIErrorException.BadRequest($"n must be 1: this server returns one choice per request (it was {n}). Send separate requests for more choices.", "n");
        }

        if (request.Logprobs == true || request.TopLogprobs is > 0)
        {
            throw OpenAIErrorException.BadRequest("logprobs is not supported by this server.", request.Logprobs == true ? "logprobs" : "top_logprobs");
        }

        if (request.StreamOptions is not null && request.Stream != true)
        {
            throw OpenAIErrorException.BadRequest("stream_options is only allowed when stream is true.", "stream_options");
        }

        // Fields whose meaning the server does not implement; ignoring them would give the client something it did not ask for.
        foreach (var (name, value) in (ReadOnlySpan<(string, JsonElement?)>)[
            ("functions", request.Functions), ("function_call", request.FunctionCall), ("audio", request.Audio),
            ("modalities", request.Modalities), ("prediction", request.Prediction), ("web_search_options", request.WebSearchOptions)])
        {
            if (value is { ValueKind: not JsonValueKind.Null })
            {
                throw OpenAIErrorException.BadRequest(name is "functions" or "function_call"
                    ? $"{name} is not supported by this server: use tools and tool_choice."
                    : $"{name} is not supported by this server.", name);
            }
        }

        var options = new ChatOptions
        {
            Temperature = request.Temperature,
            TopP = request.TopP,
            MaxOutputTokens = request.MaxCompletionTokens ?? request.MaxTokens,
            Seed = request.Seed,
            FrequencyPenalty = request.FrequencyPenalty,
            PresencePenalty = request.PresencePenalty,

            // vLLM's -1 (and 0) mean no top-k.
            TopK = request.TopK is > 0 ? request.TopK : null,
        };
        var extra = options.AdditionalProperties ??= [];
        extra[InferaTelemetry.OperationNameKey] = "chat";
        if (request.Stop is { Count: > 0 } stop)
        {
            options.StopSequences = stop;
        }

        // vLLM's extra sampling fields, which InferaChatClient reads from ChatOptions.AdditionalProperties.
        if (request.MinP is { } minP)
        {
            extra["min_p"] = minP;
        }

        if (request.RepetitionPenalty is { } repetitionPenalty)
        {
            extra["repetition_penalty"] = repetitionPenalty;
        }

        if (request.LogitBias is { Count: > 0 } logitBias)
        {
            extra["logit_bias"] = logitBias;
        }

        ChatToolsMapper.ApplyTo(options, request);
        return options;
    }

    /// <summary>Maps a .NET parameter name from Infera's validation back to the JSON field the client sent.</summary>
    public static string? JsonName(string? name, ChatCompletionRequest? request) => name switch
    {
        null => null,
        "MaxOutputTokens" or "MaxNewTokens" => request?.MaxCompletionTokens is not null ? "max_completion_tokens" : "max_tokens",
        "request" or "messages" or "prompt" => "messages",
        _ => SnakeCase(name),
    };

    internal static string SnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0)
                {
                    builder.Append('_');
                }

                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        // Infera's own names differ from OpenAI's for these two.
        return builder.ToString() switch
        {
            "top_log_probabilities" => "top_logprobs",
            "log_probabilities" => "logprobs",
            var other => other,
        };
    }

    private static string Param(int index, string field) => string.Create(CultureInfo.InvariantCulture, $"messages[{index}].{field}");

    private static string ReadText(JsonElement? content, ChatRole role, int index)
    {
        if (content is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return role == ChatRole.Assistant ? string.Empty : throw OpenAIErrorException.BadRequest("The message has no content.", Param(index, "content"));
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            return element.GetString()!;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            throw OpenAIErrorException.BadRequest("content must be a string or an array of text parts.", Param(index, "content"));
        }

        var text = new StringBuilder();
        foreach (var part in element.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object
                || !part.TryGetProperty("type", out var type)
                || type.ValueKind != JsonValueKind.String
                || type.GetString() != "text"
                || !part.TryGetProperty("text", out var partText)
                || partText.ValueKind != JsonValueKind.String)
            {
                throw OpenAIErrorException.BadRequest("Only text content parts ({\"type\":\"text\",\"text\":...}) are supported.", Param(index, "content"));
            }

            text.Append(partText.GetString());
        }

        return text.ToString();
    }
}
