using Infera.ModelBuilder;

namespace Infera.Models;

/// <summary>
/// The seam to Infera.ModelBuilder's GGUF importer: turns one GGUF file into an ONNX Runtime GenAI folder. Pulls of GGUF
/// repositories and Modelfiles <c>FROM</c> a <c>.gguf</c> file come through here.
/// </summary>
internal static class GgufImport
{
    /// <summary>Converts <paramref name="ggufPath"/> into <paramref name="outputDirectory"/>; without a precision, each weight keeps the closest exact form of the file's (<see cref="ModelPrecision.Keep"/>).</summary>
    public static Task<ConversionResult> ImportAsync(string ggufPath, string outputDirectory, ModelPrecision? precision, IProgress<double>? progress, CancellationToken cancellationToken) =>
        ModelConverter.ConvertGgufAsync(ggufPath, outputDirectory, new ConversionOptions { Precision = precision ?? ModelPrecision.Keep }, progress, cancellationToken);

    /// <summary>Finds a GGUF file or an Ollama model name (in Ollama's local store) and imports it into the GGUF cache; <see langword="null"/> when it is neither.</summary>
    public static Task<string?> ResolveAsync(string model, IProgress<double>? progress, CancellationToken cancellationToken) =>
        GgufImporter.ResolveAsync(model, null, progress, cancellationToken);
}
