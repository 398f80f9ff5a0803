using Microsoft.Extensions.AI;

namespace Infera.Models;

/// <summary>Represents a model name or path resolved to a ready ONNX Runtime GenAI folder, with the defaults its Modelfile set.</summary>
public sealed class ResolvedModel
{
    /// <summary>Gets the library name (<c>name:tag</c>), or <see langword="null"/> when a path was given.</summary>
    public string? Name { get; init; }

    /// <summary>Gets the ONNX Runtime GenAI model folder to load.</summary>
    public required string ModelDirectory { get; init; }

    /// <summary>Gets the manifest, or <see langword="null"/> when a path was given.</summary>
    public ModelManifest? Manifest { get; init; }

    /// <summary>Gets the generation defaults (empty when a path was given).</summary>
    public ModelParameters Parameters { get; init; } = new();

    /// <summary>Gets the default system message, or <see langword="null"/>.</summary>
    public string? System { get; init; }

    /// <summary>Gets the chat template (Jinja) that replaces the model's own, or <see langword="null"/>.</summary>
    public string? Template { get; init; }

    /// <summary>Gets the id to report for the model: the library name, else the folder name.</summary>
    public string ModelId => Name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(ModelDirectory));

    /// <summary>Applies the defaults that belong to loading (context length, chat template, model id) to runner options.</summary>
    /// <param name="options">The runner options to fill, or <see langword="null"/> for new ones.</param>
    /// <returns>The options: values the caller set are kept.</returns>
    public OnnxModelRunnerOptions ApplyTo(OnnxModelRunnerOptions? options)
    {
        options ??= new OnnxModelRunnerOptions();
        options.ContextLength ??= Parameters.ContextLength;
        options.ChatTemplate ??= Template;
        options.ModelId ??= Name;
        return options;
    }

    /// <summary>Applies the per-request defaults (sampling, limits) to token-level generation options; stop sequences are text and stay with the caller (<see cref="ModelParameters.Stop"/>).</summary>
    /// <param name="options">The options to fill; values the caller set are kept.</param>
    /// <returns><paramref name="options"/>.</returns>
    public GenerationOptions ApplyTo(GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var p = Parameters;
        options.Temperature ??= p.Temperature;
        options.TopK ??= p.TopK;
        options.TopP ??= p.TopP;
        options.MinP ??= p.MinP;
        options.Seed ??= p.Seed;
        options.MaxNewTokens ??= p.MaxOutputTokens;
        options.RepetitionPenalty ??= p.RepeatPenalty;
        return options;
    }

    /// <summary>Applies the per-request defaults (sampling, limits, stop sequences) to chat options.</summary>
    /// <param name="options">The caller's options, or <see langword="null"/>.</param>
    /// <returns>A copy of the options with every value the caller left unset taken from the defaults; the caller's object is not changed.</returns>
    /// <remarks>The system message is not an option: <see cref="ModelDefaultsChatClient"/> adds it to conversations that have none.</remarks>
    public ChatOptions ApplyTo(ChatOptions? options)
    {
        var result = options?.Clone() ?? new ChatOptions();
        var p = Parameters;
        result.Temperature ??= p.Temperature;
        result.TopK ??= p.TopK;
        result.TopP ??= p.TopP;
        result.Seed ??= p.Seed;
        result.MaxOutputTokens ??= p.MaxOutputTokens;
        if (result.StopSequences is null && p.Stop.Count > 0)
        {
            result.StopSequences = [.. p.Stop];
        }

        if (p.MinP is { } minP && result.AdditionalProperties?.ContainsKey("min_p") != true)
        {
            (result.AdditionalProperties ??= [])["min_p"] = minP;
        }

        if (p.RepeatPenalty is { } penalty && result.AdditionalProperties?.ContainsKey("repetition_penalty") != true)
        {
            (result.AdditionalProperties ??= [])["repetition_penalty"] = penalty;
        }

        return result;
    }
}
