namespace Infera.Models;

/// <summary>Represents the manifest of a library model: its name, the ready model folder, where it came from, its files and digests, its precision and its Modelfile defaults.</summary>
/// <remarks>Stored as JSON under <c>$INFERA_HOME/manifests/&lt;name&gt;/&lt;tag&gt;.json</c>; several names may share one model folder.</remarks>
public sealed class ModelManifest
{
    /// <summary>The manifest format version this library writes.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>Gets or sets the manifest format version.</summary>
    public int SchemaVersion { get; set; } = CurrentSchemaVersion;

    /// <summary>Gets or sets the full model name (<c>name:tag</c>).</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Gets or sets the id of the ready model folder (<c>$INFERA_HOME/models/&lt;id&gt;</c>).</summary>
    public string ModelId { get; set; } = string.Empty;

    /// <summary>Gets or sets where the model came from.</summary>
    public ModelSource Source { get; set; } = new();

    /// <summary>Gets or sets the weight precision (<c>int4</c>, <c>int8</c>, <c>fp16</c>, <c>fp32</c>), or <see langword="null"/> when not known.</summary>
    public string? Precision { get; set; }

    /// <summary>Gets or sets the architecture (<c>genai_config.json</c>'s <c>model.type</c>, for example <c>llama</c>).</summary>
    public string? Architecture { get; set; }

    /// <summary>Gets or sets the number of parameters, or <see langword="null"/> when not known.</summary>
    public long? ParameterCount { get; set; }

    /// <summary>Gets or sets the model's context length in tokens.</summary>
    public int? ContextLength { get; set; }

    /// <summary>Gets or sets the licence (a Modelfile's <c>LICENSE</c> text or the Hub repository's licence id), or <see langword="null"/>.</summary>
    public string? License { get; set; }

    /// <summary>Gets or sets the generation defaults, or <see langword="null"/> for none.</summary>
    public ModelParameters? Parameters { get; set; }

    /// <summary>Gets or sets the default system message, or <see langword="null"/>.</summary>
    public string? System { get; set; }

    /// <summary>Gets or sets the chat template (Jinja) that replaces the model's own, or <see langword="null"/>.</summary>
    public string? Template { get; set; }

    /// <summary>Gets the files of the ready model folder with their sizes and SHA-256 digests.</summary>
    public IList<ModelManifestFile> Files { get; init; } = [];

    /// <summary>Gets or sets when the manifest was written.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
