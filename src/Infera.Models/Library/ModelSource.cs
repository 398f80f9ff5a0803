namespace Infera.Models;

/// <summary>Describes where a library model came from.</summary>
public sealed class ModelSource
{
    /// <summary>The <see cref="Kind"/> of a model pulled from the Hugging Face Hub.</summary>
    public const string HuggingFace = "huggingface";

    /// <summary>The <see cref="Kind"/> of a model created from a Modelfile (a library model, a folder or a GGUF file with defaults on top).</summary>
    public const string Modelfile = "modelfile";

    /// <summary>Gets or sets the kind of source: <see cref="HuggingFace"/> or <see cref="Modelfile"/>.</summary>
    public string Kind { get; set; } = HuggingFace;

    /// <summary>Gets or sets the Hub endpoint the model was pulled from, or <see langword="null"/>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>Gets or sets the Hub repository id (<c>org/name</c>), or <see langword="null"/>.</summary>
    public string? Repository { get; set; }

    /// <summary>Gets or sets the revision asked for (branch, tag or commit), or <see langword="null"/>.</summary>
    public string? Revision { get; set; }

    /// <summary>Gets or sets the 40-hex commit the files were downloaded at, or <see langword="null"/>.</summary>
    public string? Commit { get; set; }

    /// <summary>Gets or sets what a Modelfile started <c>FROM</c>, or <see langword="null"/>.</summary>
    public string? From { get; set; }

    /// <summary>Gets or sets how the source was made runnable: <c>onnxruntime-genai</c> (used as is), <c>safetensors</c> (converted) or <c>gguf</c> (imported).</summary>
    public string? Format { get; set; }

    /// <summary>Gets or sets the subfolder of the repository the model folder was taken from, or <see langword="null"/>.</summary>
    public string? Subfolder { get; set; }

    /// <summary>Gets the source files used, with their digests.</summary>
    public IList<ModelManifestFile> Files { get; init; } = [];
}
