
namespace Infera.ModelBuilder;

/// <summary>Converts llama2.c checkpoints, Hugging Face folders and GGUF files into ONNX Runtime GenAI model folders.</summary>
/// <remarks>
/// Conversions read the input before they write anything and write the output folder atomically: when a conversion fails or
/// is canceled, no output folder (and no partial one) is left. Methods are thread-safe; each call works on its own files.
/// </remarks>
public static class ModelConverter
{
    /// <summary>Converts a llama2.c checkpoint and its tokenizer into an ONNX Runtime GenAI model folder.</summary>
    /// <param name="checkpointPath">The checkpoint (<c>.bin</c>): legacy header, version 1 (float32) or version 2 (Q8_0).</param>
    /// <param name="tokenizerPath">llama2.c's tokenizer file (<c>tok*.bin</c>) for the checkpoint's vocabulary.</param>
    /// <param name="outputDirectory">The folder to create.</param>
    /// <param name="options">The conversion options; <see langword="null"/> means the defaults (float32, fused operators).</param>
    /// <param name="progress">Receives the fraction done, from 0 to 1.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>A description of the written model folder.</returns>
    /// <exception cref="ModelConversionException">The input is missing, truncated or unsupported, or the output cannot be written.</exception>
    public static Task<ConversionResult> ConvertLlama2CAsync(string checkpointPath, string tokenizerPath, string outputDirectory, ConversionOptions? options = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpointPath);
        ArgumentNullException.ThrowIfNull(tokenizerPath);
        ArgumentNullException.ThrowIfNull(outputDirectory);
        options ??= new ConversionOptions();
        options.Validate();
        return Task.Run(
            () =>
            {
                using var checkpoint = Llama2CCheckpoint.Open(checkpointPath, options.ContextLength);
                var vocabulary = Llama2CTokenizer.Read(tokenizerPath, checkpoint.Config.VocabularySize).ToVocabulary();
                int context = checkpoint.Config.ContextLength;
                return ModelFolderWriter.Write(checkpoint, dir => HuggingFaceTokenizerWriter.Write(vocabulary, dir, context), outputDirectory, options, progress, cancellationToken);
            },
            cancellationToken);
    }

    /// <summary>Converts a Hugging Face model folder (<c>config.json</c>, <c>*.safetensors</c>, <c>tokenizer.json</c>) into an ONNX Runtime GenAI model folder.</summary>
    /// <param name="inputDirectory">The Hugging Face folder: Llama, Mistral, Qwen2 or Phi-3, with float32, float16 or bfloat16 safetensors (single or sharded).</param>
    /// <param name="outputDirectory">The folder to create.</param>
    /// <param name="options">The conversion options; <see langword="null"/> means the defaults (float32, fused operators).</param>
    /// <param name="progress">Receives the fraction done, from 0 to 1.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>A description of the written model folder.</returns>
    /// <exception cref="ModelConversionException">The input is missing, truncated or unsupported, or the output cannot be written.</exception>
    public static Task<ConversionResult> ConvertHuggingFaceAsync(string inputDirectory, string outputDirectory, ConversionOptions? options = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputDirectory);
        ArgumentNullException.ThrowIfNull(outputDirectory);
        options ??= new ConversionOptions();
        options.Validate();
        return Task.Run(
            () =>
            {
                using var checkpoint = HuggingFaceCheckpoint.Open(inputDirectory, options.ContextLength);
                return ModelFolderWriter.Write(checkpoint, checkpoint.CopyTokenizer, outputDirectory, options, progress, cancellationToken);
            },
            cancellationToken);
    }

    /// <summary>Converts a GGUF file (llama.cpp's format: architectures llama, mistral, qwen2, phi3) into an ONNX Runtime GenAI model folder.</summary>
    /// <param name="inputPath">The GGUF file (version 3), with tensors of type F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K or Q6_K.</param>
    /// <param name="outputDirectory">The folder to create.</param>
    /// <param name="options">
    /// The conversion options; <see langword="null"/> means <see cref="ModelPrecision.Keep"/> (each weight at the closest exact
    /// representation of the file's) with fused operators. Other precisions dequantize every weight and convert it as a float model.
    /// </param>
    /// <param name="progress">Receives the fraction done, from 0 to 1.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>A description of the written model folder.</returns>
    /// <exception cref="ModelConversionException">The file is missing, truncated, of another GGUF version, of an unsupported architecture, lacks a tensor or holds an unsupported tensor type, or the output cannot be written.</exception>
    public static Task<ConversionResult> ConvertGgufAsync(string inputPath, string outputDirectory, ConversionOptions? options = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputPath);
        ArgumentNullException.ThrowIfNull(outputDirectory);
        options ??= new ConversionOptions { Precision = ModelPrecision.Keep };
        options.Validate();
        return Task.Run(
            () =>
            {
                using var checkpoint = GgufCheckpoint.Open(inputPath, options.ContextLength);
                return ModelFolderWriter.Write(checkpoint, checkpoint.WriteTokenizer, outputDirectory, options, progress, cancellationToken);
            },
            cancellationToken);
    }
}
