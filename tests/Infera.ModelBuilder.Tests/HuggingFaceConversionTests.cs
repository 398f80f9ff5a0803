using SharedModels = Infera.Tests.TestModels;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Infera.ModelBuilder.Tests;

public sealed class HuggingFaceConversionTests
{
    private static readonly int[] Tokens = [1, 5, 77, 200, 13, 299, 42, 8, 150, 151, 152];

    internal static SyntheticWeightSource Source(ModelArchitecture architecture, int? slidingWindow = null, bool tied = false, int hidden = 64, int heads = 4, int kvHeads = 2, int vocabulary = 300)
    {
        var shape = new SyntheticModelOptions
        {
            Architecture = architecture,
            HiddenSize = hidden,
            HeadCount = heads,
            KeyValueHeadCount = kvHeads,
            IntermediateSize = 96,
            LayerCount = 2,
            VocabularySize = vocabulary,
            ContextLength = 64,
            TiedEmbeddings = tied,
            Seed = 11,
        };
        return new SyntheticWeightSource(SyntheticModel.ToConfig(shape, null) with { SlidingWindow = slidingWindow }, shape.Seed);
    }

    [Theory]
    [InlineData(ModelArchitecture.Llama, null, false)]
    [InlineData(ModelArchitecture.Llama, null, true)]
    [InlineData(ModelArchitecture.Mistral, 4, false)]
    [InlineData(ModelArchitecture.Qwen2, null, true)]
    [InlineData(ModelArchitecture.Phi3, null, false)]
    public async Task ConvertHuggingFace_TinyRandomFolder_LogitsMatchReference(ModelArchitecture architecture, int? slidingWindow, bool tied)
    {
        using var temp = new TempDirectory();
        using var source = Source(architecture, slidingWindow, tied);
        HuggingFaceFolder.Write(temp.Combine("hf"), source);

        var result = await ModelConverter.ConvertHuggingFaceAsync(temp.Combine("hf"), temp.Combine("out"));
        var expected = new ReferenceTransformer(source).Run(Tokens);
        var actual = GenAI.StepLogits(result.OutputDirectory, Tokens);

        Assert.InRange(ReferenceLogitsTests.MaxRelativeError(actual, expected), 0, 1e-4);
        Assert.Equal(source.Config.GenAIModelType, result.ModelType);
        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(result.OutputDirectory, "genai_config.json")));
        Assert.Equal(source.Config.GenAIModelType, config.RootElement.GetProperty("model").GetProperty("type").GetString());
        Assert.Contains("chat_template", File.ReadAllText(Path.Combine(result.OutputDirectory, "tokenizer_config.json")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("F16", 1)]
    [InlineData("BF16", 1)]
    [InlineData("F32", 3)]
    public async Task ConvertHuggingFace_HalfPrecisionOrShardedWeights_LogitsMatchReference(string dtype, int shards)
    {
        using var temp = new TempDirectory();
        using (var source = Source(ModelArchitecture.Qwen2))
        {
            HuggingFaceFolder.Write(temp.Combine("hf"), source, dtype, shards);
        }

        var result = await ModelConverter.ConvertHuggingFaceAsync(temp.Combine("hf"), temp.Combine("out"));
        using var readBack = HuggingFaceCheckpoint.Open(temp.Combine("hf"), null);
        var expected = new ReferenceTransformer(readBack).Run(Tokens);
        var actual = GenAI.StepLogits(result.OutputDirectory, Tokens);

        Assert.InRange(ReferenceLogitsTests.MaxRelativeError(actual, expected), 0, 1e-4);
        if (shards > 1)
        {
            Assert.True(File.Exists(temp.Combine("hf/model.safetensors.index.json")));
        }
    }

    /// <summary>
    /// ONNX Runtime GenAI's own test model, built by its builder from a Hugging Face LlamaForCausalLM: its weights, put back in
    /// a Hugging Face folder and converted here, reproduce GenAI's published golden ids — an independent check of the
    /// Hugging Face conventions (rotating halves, [out, in] weights).
    /// </summary>
    [Fact]
    public async Task ConvertHuggingFace_TinyRandomLlamaRebuiltFromGenAIModel_ReproducesGenAIGoldenIds()
    {
        using var temp = new TempDirectory();
        string original = SharedModels.Get("tiny-random-llama-fp16");
        string hf = temp.Combine("hf");
        Directory.CreateDirectory(hf);
        var model = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(original, "model.onnx")));
        byte[] data = File.ReadAllBytes(Path.Combine(original, "model.onnx.data"));
        var tensors = new List<HuggingFaceFolder.Tensor>();
        foreach (var init in model.Graph.Initializer)
        {
            if (init.Name.StartsWith("cos_", StringComparison.Ordinal) || init.Name.StartsWith("sin_", StringComparison.Ordinal))
            {
                continue;
            }

            long offset = long.Parse(init.ExternalData.Single(e => e.Key == "offset").Value, System.Globalization.CultureInfo.InvariantCulture);
            long length = long.Parse(init.ExternalData.Single(e => e.Key == "length").Value, System.Globalization.CultureInfo.InvariantCulture);
            var values = MemoryMarshal.Cast<byte, Half>(data.AsSpan((int)offset, (int)length)).ToArray().Select(h => (float)h).ToArray();
            var dims = init.Dims.ToArray();
            string name = init.Name.Replace(".attn.", ".self_attn.", StringComparison.Ordinal).Replace(".MatMul.weight", ".weight", StringComparison.Ordinal)
                .Replace("model.layers.2.final_norm_layernorm.weight", "model.norm.weight", StringComparison.Ordinal);
            if (dims.Length == 2 && name != "model.embed_tokens.weight")
            {
                // MatMul weights are [in, out]; Hugging Face stores [out, in].
                var transposed = new float[values.Length];
                for (int r = 0; r < dims[0]; r++)
                {
                    for (int c = 0; c < dims[1]; c++)
                    {
                        transposed[(c * dims[0]) + r] = values[(r * dims[1]) + c];
                    }
                }

                values = transposed;
                dims = [dims[1], dims[0]];
            }

            tensors.Add(new(name, dims, values));
        }

        HuggingFaceFolder.WriteFile(Path.Combine(hf, "model.safetensors"), tensors, "F16");
        File.WriteAllText(Path.Combine(hf, "config.json"), """
            {"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":16,"intermediate_size":64,"num_hidden_layers":2,
             "num_attention_heads":1,"num_key_value_heads":1,"vocab_size":32000,"max_position_embeddings":2048,"rms_norm_eps":1e-6,
             "rope_theta":10000.0,"tie_word_embeddings":false,"hidden_act":"silu","bos_token_id":0,"eos_token_id":1,"pad_token_id":2}
            """);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
        {
            File.Copy(Path.Combine(original, file), Path.Combine(hf, file));
        }

        var result = await ModelConverter.ConvertHuggingFaceAsync(hf, temp.Combine("out"));
        var ours = GreedyIds(result.OutputDirectory, [0, 0, 195, 731], 10);

        Assert.Equal([0, 0, 195, 731, 29592, 4877, 18112, 22607, 12936, 997], ours);
        Assert.Equal(16, result.GraphHeadSize);
    }

    private static int[] GreedyIds(string folder, int[] prompt, int maxLength)
    {
        using var model = new Microsoft.ML.OnnxRuntimeGenAI.Model(folder);
        using var parameters = new Microsoft.ML.OnnxRuntimeGenAI.GeneratorParams(model);
        parameters.SetSearchOption("max_length", maxLength);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Microsoft.ML.OnnxRuntimeGenAI.Generator(model, parameters);
        generator.AppendTokens(prompt);
        while (!generator.IsDone())
        {
            generator.GenerateNextToken();
        }

        return generator.GetSequence(0).ToArray();
    }
}
