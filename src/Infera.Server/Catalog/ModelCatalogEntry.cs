namespace Infera.Server;

/// <summary>A model in an <see cref="IModelCatalog"/>: its name, the folder it loads from, and the defaults its Modelfile sets.</summary>
public sealed class ModelCatalogEntry
{
    /// <summary>Gets the name with its tag (<c>name:tag</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Gets the ONNX Runtime GenAI model folder the model loads from.</summary>
    public required string ModelPath { get; init; }

    /// <summary>Gets the system prompt used when a request gives none, or <see langword="null"/>.</summary>
    public string? System { get; init; }

    /// <summary>Gets a chat template (Jinja) that replaces the model's own, or <see langword="null"/>.</summary>
    public string? Template { get; init; }

    /// <summary>Gets the licence text, or <see langword="null"/>.</summary>
    public string? License { get; init; }

    /// <summary>Gets the default options, in Ollama's names (<c>temperature</c>, <c>num_ctx</c>, <c>stop</c>, ...), in the order given; a request's own options win.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; init; } = [];

    /// <summary>Gets the quantization or precision of the weights (for example <c>int4</c>), or <see langword="null"/> when unknown.</summary>
    public string? Precision { get; init; }

    /// <summary>Gets where the model came from (for example a Hugging Face repository), or <see langword="null"/>.</summary>
    public string? Source { get; init; }
}
