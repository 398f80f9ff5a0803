using Infera.ModelBuilder;

namespace Infera.Models;

/// <summary>Represents the options of <see cref="ModelLibrary.PullAsync"/>.</summary>
public sealed class ModelPullOptions
{
    /// <summary>
    /// Gets or sets the precision: of the conversion for safetensors repositories, and the variant to pick where a repository
    /// holds several ONNX Runtime GenAI folders or GGUF files. <see langword="null"/> (the default) converts to int4 above
    /// <see cref="ModelLibraryOptions.Int4ParameterThreshold"/> parameters and float32 below, and prefers an int4 CPU folder.
    /// </summary>
    public ModelPrecision? Precision { get; set; }

    /// <summary>Gets or sets a glob (<c>*</c>, <c>**</c>, <c>?</c>) over repository paths that picks the files or the ONNX Runtime GenAI subfolder to use, for example <c>cpu_and_mobile/*</c>. <see langword="null"/> picks automatically.</summary>
    public string? Include { get; set; }

    /// <summary>Gets or sets the library name to store the model under. <see langword="null"/> (the default) uses the repository id, tagged with the revision when one was given.</summary>
    public string? Name { get; set; }
}
