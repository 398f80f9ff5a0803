using Microsoft.Extensions.AI;

namespace Infera.Server;

/// <summary>
/// A model's Modelfile defaults (<see cref="ModelCatalogEntry.System"/> and <see cref="ModelCatalogEntry.Parameters"/>) applied to the
/// OpenAI endpoints' requests, as Ollama's own endpoints apply them: a field the request sets wins; the system message is added only
/// when the conversation has none.
/// </summary>
internal static class ModelDefaults
{
    public static void Apply(ModelCatalogEntry? entry, ChatCompletionRequest request, List<ChatMessage> messages)
    {
        if (entry is null)
        {
            return;
        }

        if (!string.IsNullOrEmpty(entry.System) && !messages.Any(m => m.Role == ChatRole.System))
        {
            messages.Insert(0, new ChatMessage(ChatRole.System, entry.System));
        }

        if (entry.Parameters.Count == 0)
        {
            return;
        }

        var defaults = OllamaOptions.Read(entry, null);
        request.Temperature ??= defaults.Temperature;
        request.TopP ??= defaults.TopP;
        request.TopK ??= defaults.TopK;
        request.MinP ??= defaults.MinP;
        request.Seed ??= defaults.Seed;
        request.RepetitionPenalty ??= defaults.RepeatPenalty;
        if (request.MaxTokens is null && request.MaxCompletionTokens is null)
        {
            request.MaxTokens = defaults.NumPredict;
        }

        if (request.Stop is null && defaults.Stop.Count > 0)
        {
            request.Stop = defaults.Stop;
        }
    }

    public static void Apply(ModelCatalogEntry? entry, CompletionRequest request)
    {
        if (entry is not { Parameters.Count: > 0 })
        {
            return;
        }

        var defaults = OllamaOptions.Read(entry, null);
        request.Temperature ??= defaults.Temperature;
        request.TopP ??= defaults.TopP;
        request.TopK ??= defaults.TopK;
        request.MinP ??= defaults.MinP;
        request.Seed ??= defaults.Seed;
        request.RepetitionPenalty ??= defaults.RepeatPenalty;
        request.MaxTokens ??= defaults.NumPredict;
        if (request.Stop is null && defaults.Stop.Count > 0)
        {
            request.Stop = defaults.Stop;
        }
    }
}
