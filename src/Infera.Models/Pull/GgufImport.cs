using Infera.ModelBuilder;

namespace Infera.Models;

/// <summary>
/// The seam to the GGUF importer: turns one GGUF file into an ONNX Runtime GenAI folder. Pulls of GGUF repositories and
/// Modelfiles <c>FROM</c> a <c>.gguf</c> file come through here.
/// </summary>
internal static class GgufImport
{
    public static bool IsAvailable => false;

    public static Task<ConversionResult> ImportAsync(string ggufPath, string outputDirectory, ConversionOptions options, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        _ = (ggufPath, outputDirectory, options, progress, cancellationToken);
        throw new ModelLibraryException($"Importing GGUF files ({Path.GetFileName(ggufPath)}) is not available in this build of Infera; pull a repository with safetensors or an ONNX Runtime GenAI folder instead.");
    }
}
