using System.Text.Encodings.Web;
using System.Text.Json;

namespace Infera.ModelBuilder;

/// <summary>Creates ONNX Runtime GenAI model folders with seeded random weights at any Llama-family shape, for tests and benchmarks.</summary>
/// <remarks>The output is meaningless text; the folder's <c>infera_model.json</c> says so. Methods are thread-safe.</remarks>
public static class SyntheticModel
{
    /// <summary>Creates a random-weight model folder.</summary>
    /// <param name="model">The shape and seed.</param>
    /// <param name="outputDirectory">The folder to create.</param>
    /// <param name="options">The conversion options (precision, operators); <see langword="null"/> means the defaults.</param>
    /// <param name="progress">Receives the fraction done, from 0 to 1.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>A description of the written model folder.</returns>
    /// <exception cref="ModelConversionException">The shape is invalid or the output cannot be written.</exception>
    public static Task<ConversionResult> CreateAsync(SyntheticModelOptions model, string outputDirectory, ConversionOptions? options = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(outputDirectory);
        options ??= new ConversionOptions();
        options.Validate();
        if (model.VocabularySize < SyntheticVocabulary.MinimumSize)
        {
            throw new ModelConversionException($"The vocabulary size must be at least {SyntheticVocabulary.MinimumSize}; it is {model.VocabularySize}.");
        }

        var config = ToConfig(model, options.ContextLength);
        config.Validate("synthetic model");
        return Task.Run(
            () =>
            {
                using var source = new SyntheticWeightSource(config, model.Seed);
                return ModelFolderWriter.Write(
                    source,
                    dir =>
                    {
                        HuggingFaceTokenizerWriter.Write(SyntheticVocabulary.Create(config.VocabularySize), dir, config.ContextLength);
                        WriteDescription(Path.Combine(dir, "infera_model.json"), model, options);
                    },
                    outputDirectory,
                    options,
                    progress,
                    cancellationToken);
            },
            cancellationToken);
    }

    internal static TransformerConfig ToConfig(SyntheticModelOptions model, int? contextLength) => new()
    {
        Architecture = model.Architecture,
        HiddenSize = model.HiddenSize,
        IntermediateSize = model.IntermediateSize,
        LayerCount = model.LayerCount,
        HeadCount = model.HeadCount,
        KeyValueHeadCount = model.KeyValueHeadCount,
        HeadSize = model.HeadSize ?? 0,
        VocabularySize = model.VocabularySize,
        ContextLength = contextLength ?? model.ContextLength,
        TiedEmbeddings = model.TiedEmbeddings,
        RotaryInterleaved = false,
        AttentionBias = model.Architecture == ModelArchitecture.Qwen2,
        RopeTheta = model.Architecture == ModelArchitecture.Qwen2 ? 1_000_000.0 : 10_000.0,
        RmsNormEpsilon = 1e-6f,
        BosTokenId = 1,
        EosTokenIds = [2],
        PadTokenId = 0,
    };

    private static void WriteDescription(string path, SyntheticModelOptions model, ConversionOptions options)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("id", model.ModelId);
        w.WriteBoolean("random_weights", true);
        w.WriteString("description", "Seeded random weights (not a trained model): it writes meaningless text.");
        w.WriteString("architecture", model.Architecture.ToString().ToLowerInvariant());
        w.WriteNumber("seed", model.Seed);
        w.WriteString("precision", options.Precision.ToString().ToLowerInvariant());
        w.WriteString("producer", "Infera.ModelBuilder");
        w.WriteEndObject();
    }
}
