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
        if (!string.IsNullOrEmpty(entry?.System) && !messages.Any(m => m.Role == ChatRole.System))
        {
            messages.Insert(0, new ChatMessage(ChatRole.System, entry.System));
        }

        if (Sampling(entry, request) is { } defaults && request.MaxTokens is null && request.MaxCompletionTokens is null)
        {
            request.MaxTokens = defaults.NumPredict;
        }
    }

    public static void Apply(ModelCatalogEntry? entry, CompletionRequest request)
    {
        if (Sampling(entry, request) is { } defaults)
        {
            request.MaxTokens ??= defaults.NumPredict;
        }
    }

    // Fills the shared sampling fields; returns the parsed parameters, or null when the model sets none.
    private static OllamaOptions? Sampling(ModelCatalogEntry? entry, ISamplingRequest request)
    {
        if (entry is not { Parameters.Count: > 0 })
        {
            return null;
        }

        var defaults = OllamaOptions.Read(entry, null);
        request.Temperature ??= defaults.Temperature;
        request.TopP ??= defaults.TopP;
        request.TopK ??= defaults.TopK;
        request.MinP ??= defaults.MinP;
        request.Seed ??= defaults.Seed;
        request.RepetitionPenalty ??= defaults.RepeatPenalty;
        if (request.Stop is null && defaults.Stop.Count > 0)
        {
            request.Stop = defaults.Stop;
        }

        return defaults;
    }
}
