using System.Security.Cryptography;
using Infera.ModelBuilder;

namespace Infera.Cli;

/// <summary>
/// stories260K (llama2.c's tinyllamas, MIT), embedded in the tool as its llama2.c checkpoint and tokenizer when the build
/// found them (see DefaultModel.targets), and converted on first use into the model cache with the converter's fastest
/// style for it: fused operators, float32, one intra-op thread.
/// </summary>
internal static class EmbeddedDefaultModel
{
    /// <summary>The recipe: a change to the conversion options below changes it, so caches never mix conversions.</summary>
    private const string Recipe = "v1";

    private const string CheckpointResource = "Infera.Cli.DefaultModel.stories260K.bin";
    private const string TokenizerResource = "Infera.Cli.DefaultModel.tok512.bin";
    private const string LicenseResource = "Infera.Cli.DefaultModel.LICENSE.txt";

    /// <summary>The name of the licence notice written into the converted folder.</summary>
    public const string LicenseFileName = "LICENSE-stories260K.txt";

    /// <summary>Gets whether this build of the tool carries the model.</summary>
    public static bool IsEmbedded =>
        typeof(EmbeddedDefaultModel).Assembly.GetManifestResourceInfo(CheckpointResource) is not null &&
        typeof(EmbeddedDefaultModel).Assembly.GetManifestResourceInfo(TokenizerResource) is not null;

    /// <summary>Returns the converted model's folder in the cache, converting the embedded checkpoint first if needed.</summary>
    /// <remarks>Safe from several processes at once: each converts into its own staging folder and renames it into place;
    /// the first complete folder wins.</remarks>
    public static async Task<string> EnsureConvertedAsync(string? cacheDirectory, CancellationToken cancellationToken)
    {
        byte[] checkpoint = Read(CheckpointResource);
        byte[] tokenizer = Read(TokenizerResource);
        string root = cacheDirectory ?? DefaultModel.CacheDirectory;
        string hash = Convert.ToHexStringLower(SHA256.HashData(checkpoint.Concat(tokenizer).ToArray()))[..12];
        string folder = Path.GetFullPath(Path.Combine(root, $"stories260K-{Recipe}-{hash}"));
        if (IsComplete(folder))
        {
            return folder;
        }

        Directory.CreateDirectory(root);
        string staging = Path.Combine(root, $".stories260K-{Guid.NewGuid():N}");
        string inputs = staging + "-input";
        try
        {
            Directory.CreateDirectory(inputs);
            string checkpointPath = Path.Combine(inputs, "stories260K.bin");
            string tokenizerPath = Path.Combine(inputs, "tok512.bin");
            await File.WriteAllBytesAsync(checkpointPath, checkpoint, cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(tokenizerPath, tokenizer, cancellationToken).ConfigureAwait(false);
            var options = new ConversionOptions { GraphStyle = GraphStyle.Fused, Precision = ModelPrecision.Float32, IntraOpThreadCount = 1 };
            await ModelConverter.ConvertLlama2CAsync(checkpointPath, tokenizerPath, staging, options, null, cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(Path.Combine(staging, LicenseFileName), Read(LicenseResource), cancellationToken).ConfigureAwait(false);
            try
            {
                Directory.Move(staging, folder);
            }
            catch (IOException) when (IsComplete(folder))
            {
                // Another process converted it at the same time.
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelConversionException($"The default model cannot be written to {root}: {e.Message}", e);
        }
        finally
        {
            DeleteQuietly(inputs);
            DeleteQuietly(staging);
        }

        return folder;
    }

    private static bool IsComplete(string folder) =>
        File.Exists(Path.Combine(folder, "genai_config.json")) && File.Exists(Path.Combine(folder, "model.onnx")) &&
        File.Exists(Path.Combine(folder, "tokenizer.json")) && File.Exists(Path.Combine(folder, LicenseFileName));

    private static byte[] Read(string resource)
    {
        using var stream = typeof(EmbeddedDefaultModel).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"This build of the tool does not carry {resource}.");
        using var memory = new MemoryStream((int)stream.Length);
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    private static void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
