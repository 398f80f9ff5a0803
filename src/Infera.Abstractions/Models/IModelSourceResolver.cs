namespace Infera;

/// <summary>
/// Turns a model reference that is not a model folder — a GGUF file, an Ollama model name — into a model folder that
/// ONNX Runtime GenAI loads, importing it first if needed. Register one with <see cref="ModelSources.Register"/>;
/// <c>Infera.ModelBuilder</c> provides the GGUF and Ollama one (<c>GgufImporter.RegisterModelSource()</c>).
/// </summary>
public interface IModelSourceResolver
{
    /// <summary>Returns the model folder for <paramref name="model"/>, or <see langword="null"/> when this resolver does not handle it.</summary>
    /// <param name="model">The reference the caller gave: a path or a name.</param>
    /// <param name="progress">Receives the fraction done of an import, from 0 to 1, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests.</param>
    /// <returns>The folder, or <see langword="null"/>.</returns>
    ValueTask<string?> ResolveAsync(string model, IProgress<double>? progress, CancellationToken cancellationToken);
}
