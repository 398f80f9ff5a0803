namespace Infera.Models;

/// <summary>Represents the options of a <see cref="ModelLibrary"/>.</summary>
public sealed class ModelLibraryOptions
{
    /// <summary>Gets or sets the library folder. <see langword="null"/> (the default) means <c>INFERA_HOME</c>, else <c>~/.cache/infera</c>.</summary>
    public string? RootDirectory { get; set; }

    /// <summary>Gets or sets the Hugging Face Hub options. <see langword="null"/> (the default) reads them from the environment (<see cref="HuggingFaceHubOptions.FromEnvironment"/>).</summary>
    public HuggingFaceHubOptions? Hub { get; set; }

    /// <summary>Gets or sets the number of parameters above which safetensors models are converted to int4 when no precision is asked for; smaller ones stay float32. The default is 100 million.</summary>
    public long Int4ParameterThreshold { get; set; } = 100_000_000;
}
