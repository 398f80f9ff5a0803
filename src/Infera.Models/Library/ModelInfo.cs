namespace Infera.Models;

/// <summary>Describes a model in the library (what <c>infera list</c> and <c>infera show</c> print).</summary>
public sealed class ModelInfo
{
    /// <summary>Gets the full name (<c>name:tag</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Gets the ready ONNX Runtime GenAI model folder.</summary>
    public required string ModelDirectory { get; init; }

    /// <summary>Gets the manifest.</summary>
    public required ModelManifest Manifest { get; init; }

    /// <summary>Gets the total size of the model folder's files, in bytes.</summary>
    public required long Size { get; init; }

    /// <summary>Gets when the name was last written.</summary>
    public required DateTimeOffset ModifiedAt { get; init; }

    /// <summary>Gets the digest of the manifest (<c>sha256:</c> and 64 hex digits); it changes whenever the model or its defaults change.</summary>
    public required string Digest { get; init; }

    /// <summary>Gets the chat template in effect: the Modelfile's <c>TEMPLATE</c>, else the model's own, else <see langword="null"/>.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Returns the model's Modelfile: <c>FROM</c> its ready model folder (so that <c>create</c> can rebuild it), with its parameters, system message, template and licence.</summary>
    /// <returns>The Modelfile.</returns>
    public Modelfile ToModelfile()
    {
        var modelfile = new Modelfile
        {
            From = ModelDirectory,
            Parameters = Manifest.Parameters?.MergeOver(null) ?? new ModelParameters(),
            System = Manifest.System,
            Template = Manifest.Template,
            License = Manifest.License,
        };
        return modelfile;
    }
}
