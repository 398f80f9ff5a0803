using System.CommandLine;
using Infera.ModelBuilder;

namespace Infera.Cli.Commands;

/// <summary>The options shared by <c>convert</c> and <c>create-model</c>: precision, block size, graph and output.</summary>
internal sealed class ModelBuilderArguments
{
    public ModelBuilderArguments(string defaultPrecision = "fp32")
    {
        Precision = new("--precision")
        {
            Description = defaultPrecision == "keep" ? "Weight precision: keep (each weight at the closest exact form of the file's), fp32, fp16, int8 or int4." : "Weight precision: fp32, fp16, int8 or int4.",
            DefaultValueFactory = _ => defaultPrecision,
        };
    }

    public Option<string> Output { get; } = new("--output", "-o") { Description = "The model folder to create.", Required = true };

    public Option<string> Precision { get; }

    public Option<int> BlockSize { get; } = new("--block-size") { Description = "Weights per scale for int8/int4 (power of two, 16-128).", DefaultValueFactory = _ => 32 };

    public Option<int?> AccuracyLevel { get; } = new("--accuracy-level") { Description = "MatMulNBits accuracy_level 0-4 (default: 4 for int4, 0 for int8)." };

    public Option<bool?> QuantizeEmbeddings { get; } = new("--quantize-embeddings") { Description = "Store the embedding table at int4/int8 (true/false; default: for large tables)." };

    public Option<int?> PromptAccuracyLevel { get; } = new("--prompt-accuracy-level") { Description = "MatMulNBits accuracy_level 0-4 for prompts (default: 0 for large int4 models at level 4, else the same as --accuracy-level)." };

    public Option<string> Graph { get; } = new("--graph") { Description = "Operators: fused (GroupQueryAttention, fastest) or standard (portable ONNX).", DefaultValueFactory = _ => "fused" };

    public Option<string> Logits { get; } = new("--logits") { Description = "Language-model head positions: auto, last (faster prompts) or all.", DefaultValueFactory = _ => "auto" };

    public Option<int?> Context { get; } = new("--context") { Description = "Context length written to the model (default: the source's)." };

    public Option<int?> Threads { get; } = new("--threads") { Description = "intra_op_num_threads written to genai_config.json (default: none, ONNX Runtime's choice)." };

    public Option<bool> Force { get; } = new("--force") { Description = "Replace an existing output folder." };

    public Option<bool> Json { get; } = new("--json") { Description = "Print a JSON summary instead of text." };

    public void AddTo(Command command)
    {
        command.Options.Add(Output);
        command.Options.Add(Precision);
        command.Options.Add(BlockSize);
        command.Options.Add(AccuracyLevel);
        command.Options.Add(PromptAccuracyLevel);
        command.Options.Add(QuantizeEmbeddings);
        command.Options.Add(Graph);
        command.Options.Add(Logits);
        command.Options.Add(Context);
        command.Options.Add(Threads);
        command.Options.Add(Force);
        command.Options.Add(Json);
    }

    public ConversionOptions ToOptions(ParseResult result)
    {
        var options = new ConversionOptions
        {
            Precision = ParsePrecision(result.GetValue(Precision)!),
            BlockSize = result.GetValue(BlockSize),
            AccuracyLevel = result.GetValue(AccuracyLevel),
            PromptAccuracyLevel = result.GetValue(PromptAccuracyLevel),
            QuantizeEmbeddings = result.GetValue(QuantizeEmbeddings),
            GraphStyle = result.GetValue(Graph)!.ToLowerInvariant() switch
            {
                "fused" => GraphStyle.Fused,
                "standard" => GraphStyle.Standard,
                var other => throw new ArgumentException($"Unknown --graph '{other}'; use fused or standard."),
            },
            LastPositionLogitsOnly = result.GetValue(Logits)!.ToLowerInvariant() switch
            {
                "auto" => null,
                "last" => true,
                "all" => false,
                var other => throw new ArgumentException($"Unknown --logits '{other}'; use auto, last or all."),
            },
            ContextLength = result.GetValue(Context),
            IntraOpThreadCount = result.GetValue(Threads),
            Overwrite = result.GetValue(Force),
        };
        options.Validate();
        return options;
    }

    public static ModelPrecision ParsePrecision(string value) => value.ToLowerInvariant() switch
    {
        "fp32" or "float32" or "f32" => ModelPrecision.Float32,
        "fp16" or "float16" or "f16" => ModelPrecision.Float16,
        "int8" or "q8" => ModelPrecision.Int8,
        "int4" or "q4" => ModelPrecision.Int4,
        "keep" => ModelPrecision.Keep,
        _ => throw new ArgumentException($"Unknown --precision '{value}'; use fp32, fp16, int8 or int4."),
    };

    public static async Task WriteSummaryAsync(ConversionResult r, bool json)
    {
        if (json)
        {
            await Console.Out.WriteLineAsync(CliJson.Serialize(new Dictionary<string, object>
            {
                ["output"] = r.OutputDirectory,
                ["precision"] = r.Precision.ToString().ToLowerInvariant(),
                ["graph"] = r.GraphStyle.ToString().ToLowerInvariant(),
                ["modelType"] = r.ModelType,
                ["hiddenSize"] = r.HiddenSize,
                ["layers"] = r.LayerCount,
                ["heads"] = r.HeadCount,
                ["kvHeads"] = r.KeyValueHeadCount,
                ["headSize"] = r.HeadSize,
                ["graphHeadSize"] = r.GraphHeadSize,
                ["vocabularySize"] = r.VocabularySize,
                ["contextLength"] = r.ContextLength,
                ["bytes"] = r.TotalBytes,
                ["seconds"] = Math.Round(r.Elapsed.TotalSeconds, 3),
            })).ConfigureAwait(false);
            return;
        }

        await Console.Out.WriteLineAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"wrote {r.OutputDirectory}: {r.ModelType}, {r.Precision.ToString().ToLowerInvariant()}, {r.GraphStyle.ToString().ToLowerInvariant()} graph, hidden {r.HiddenSize}, {r.LayerCount} layers, {r.HeadCount}/{r.KeyValueHeadCount} heads (head size {r.HeadSize}{(r.GraphHeadSize != r.HeadSize ? $" padded to {r.GraphHeadSize}" : string.Empty)}), vocabulary {r.VocabularySize}, context {r.ContextLength}; {r.TotalBytes / 1048576.0:F1} MiB in {r.Elapsed.TotalSeconds:F2} s")).ConfigureAwait(false);
    }
}
