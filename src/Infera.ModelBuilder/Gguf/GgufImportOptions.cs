namespace Infera.ModelBuilder;

/// <summary>Represents the options of importing a GGUF file into the model cache.</summary>
public sealed class GgufImportOptions
{
    /// <summary>
    /// Gets or sets the folder that holds Infera's models; imports go to its <c>gguf</c> subfolder. <see langword="null"/> means
    /// <c>$XDG_CACHE_HOME/infera/models</c>, else <c>~/.cache/infera/models</c> (on Windows, <c>%LOCALAPPDATA%\infera\models</c>).
    /// </summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Gets or sets the conversion options; <see langword="null"/> means <see cref="ModelPrecision.Keep"/> with the defaults. The precision is part of the cache key.</summary>
    public ConversionOptions? Conversion { get; set; }

    /// <summary>Gets or sets Ollama's model folder for names; <see langword="null"/> means <see cref="OllamaModelStore.DefaultDirectory"/>.</summary>
    public string? OllamaModelsDirectory { get; set; }
}
