namespace Infera.ModelBuilder.Tests;

public sealed class QuantizationTests(Llama2CConversionFixture fixture) : IClassFixture<Llama2CConversionFixture>
{
    private static readonly int[] Story = [1, 403, 407, 261, 400, 263, 333, 406, 505, 281, 500, 262, 449, 302, 275, 409, 266, 328, 410, 46];

    private static string Text => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "tinystories-style.txt"));

    // Documented in docs/quantization.md: max |logit error| / max |logit| over a 20-token story.
    [Theory]
    [InlineData(ModelPrecision.Float16, 0.01)]
    [InlineData(ModelPrecision.Int8, 0.05)]
    [InlineData(ModelPrecision.Int4, 0.30)]
    public async Task StepLogits_QuantizedStories260K_WithinDocumentedTolerance(ModelPrecision precision, double tolerance)
    {
        string folder = fixture.Combine("logits-" + precision);
        await ModelConverter.ConvertLlama2CAsync(fixture.Checkpoint, fixture.Tokenizer, folder, new ConversionOptions { Precision = precision, Overwrite = true });
        using var source = Llama2CCheckpoint.Open(fixture.Checkpoint);
        var expected = new ReferenceTransformer(source).Run(Story);

        var actual = GenAI.StepLogits(folder, Story);

        Assert.InRange(ReferenceLogitsTests.MaxRelativeError(actual, expected), 0, tolerance);
    }

    [Theory]
    [InlineData(ModelPrecision.Float16, 0.005)]
    [InlineData(ModelPrecision.Int8, 0.02)]
    [InlineData(ModelPrecision.Int4, 0.15)]
    public async Task Perplexity_QuantizedStories260K_WithinAimOfFloat32(ModelPrecision precision, double aim)
    {
        string folder = fixture.Combine("ppl-" + precision);
        await ModelConverter.ConvertLlama2CAsync(fixture.Checkpoint, fixture.Tokenizer, folder, new ConversionOptions { Precision = precision, Overwrite = true });

        var baseline = await PerplexityEvaluator.EvaluateAsync(fixture.Float32, Text);
        var quantized = await PerplexityEvaluator.EvaluateAsync(folder, Text);

        Assert.Equal(baseline.Tokens, quantized.Tokens);
        Assert.InRange(quantized.Perplexity / baseline.Perplexity, 1 - aim, 1 + aim);
        Assert.InRange(baseline.Perplexity, 1.5, 6);
    }

    [Fact]
    public async Task PromptAccuracyLevel_Int4_PromptsUseItsLevelAndSingleStepsTheDecodeLevel()
    {
        async Task<string> Convert(string name, int accuracy, int? promptAccuracy)
        {
            string folder = fixture.Combine(name);
            await ModelConverter.ConvertLlama2CAsync(fixture.Checkpoint, fixture.Tokenizer, folder, new ConversionOptions { Precision = ModelPrecision.Int4, AccuracyLevel = accuracy, PromptAccuracyLevel = promptAccuracy, Overwrite = true });
            return folder;
        }

        string level0 = await Convert("int4-acc0", 0, null);
        string level4 = await Convert("int4-acc4", 4, null);
        string split = await Convert("int4-prompt0-step4", 4, 0);

        var promptSplit = GenAI.PromptLogits(split, Story);
        var stepSplit = GenAI.StepLogits(split, Story);

        // Prompts go through the level-0 branch, single-token steps through the level-4 one: each equals the graph
        // built at that level alone, and the two levels give different logits (int8 activations at level 4).
        Assert.InRange(ReferenceLogitsTests.MaxRelativeError(promptSplit, GenAI.PromptLogits(level0, Story)), 0, 1e-6);
        Assert.InRange(ReferenceLogitsTests.MaxRelativeError(stepSplit, GenAI.StepLogits(level4, Story)), 0, 1e-6);
        Assert.True(ReferenceLogitsTests.MaxRelativeError(GenAI.PromptLogits(level4, Story), GenAI.PromptLogits(level0, Story)) > 1e-5);
        var graph = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(split, "model.onnx"))).Graph;
        Assert.Equal((5 * 5) + 1, graph.Node.Count(n => n.OpType == "If")); // 5 layers × (qkv, o, gate, up, down) + the head
    }

    [Fact]
    public async Task DefaultInt4_LargeProjections_WritesOneLevelGraphAndAFloatPromptsGraphOverTheSameWeights()
    {
        using var temp = new TempDirectory();
        string folder = temp.Combine("large");

        // hidden × intermediate = 4 Mi weights: the size from which prompts may run at another accuracy level.
        var shape = new SyntheticModelOptions { HiddenSize = 512, IntermediateSize = 8192, LayerCount = 1, HeadCount = 8, KeyValueHeadCount = 2, VocabularySize = 320, ContextLength = 64 };
        await SyntheticModel.CreateAsync(shape, folder, new ConversionOptions { Precision = ModelPrecision.Int4 });

        var main = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(folder, "model.onnx"))).Graph;
        var prompts = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(folder, "model.fp32-prompts.onnx"))).Graph;
        Assert.DoesNotContain(main.Node, n => n.OpType == "If" || n.Name.StartsWith("/model/step/", StringComparison.Ordinal));
        Assert.Equal(6, main.Node.Count(n => n.OpType == "MatMulNBits")); // qkv, o, gate, up, down, head
        Assert.All(main.Node.Where(n => n.OpType == "MatMulNBits"), n => Assert.Equal(4, n.Attribute.Single(a => a.Name == "accuracy_level").I));
        Assert.Equal(6, prompts.Node.Count(n => n.OpType == "If"));
        Assert.Equal(prompts.Initializer.Select(t => t.Name).Order(), main.Initializer.Select(t => t.Name).Order());
        Assert.Equal(["model.onnx.data"], main.Initializer.SelectMany(t => t.ExternalData).Where(e => e.Key == "location").Select(e => e.Value).Distinct());

        // The float-prompts graph, loaded in place of model.onnx: single steps are the same, prompts run at level 0.
        string copy = temp.Combine("copy");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(folder))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        File.Copy(Path.Combine(folder, "model.fp32-prompts.onnx"), Path.Combine(copy, "model.onnx"), overwrite: true);
        int[] tokens = [1, 17, 93, 5, 200, 31, 64, 7];
        Assert.InRange(ReferenceLogitsTests.MaxRelativeError(GenAI.StepLogits(copy, tokens), GenAI.StepLogits(folder, tokens)), 0, 1e-6);
        Assert.True(ReferenceLogitsTests.MaxRelativeError(GenAI.PromptLogits(copy, tokens), GenAI.PromptLogits(folder, tokens)) > 1e-5);
    }

    // Documented in docs/quantization.md: stories260K's 64-wide embeddings lose more to int4 blocks than its projections.
    [Theory]
    [InlineData(ModelPrecision.Int4, 0.40)]
    [InlineData(ModelPrecision.Int8, 0.05)]
    public async Task QuantizeEmbeddings_TableStoredAtModelPrecision_LogitsWithinTolerance(ModelPrecision precision, double tolerance)
    {
        string plain = fixture.Combine("embed-float-" + precision);
        string quantized = fixture.Combine("embed-quantized-" + precision);
        await ModelConverter.ConvertLlama2CAsync(fixture.Checkpoint, fixture.Tokenizer, plain, new ConversionOptions { Precision = precision, QuantizeEmbeddings = false, Overwrite = true });
        await ModelConverter.ConvertLlama2CAsync(fixture.Checkpoint, fixture.Tokenizer, quantized, new ConversionOptions { Precision = precision, QuantizeEmbeddings = true, Overwrite = true });
        using var source = Llama2CCheckpoint.Open(fixture.Checkpoint);
        var expected = new ReferenceTransformer(source).Run(Story);

        var actual = GenAI.StepLogits(quantized, Story);

        Assert.InRange(ReferenceLogitsTests.MaxRelativeError(actual, expected), 0, tolerance);
        Assert.InRange(ReferenceLogitsTests.MaxRelativeError(GenAI.PromptLogits(quantized, Story), expected), 0, tolerance);
        var graph = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(quantized, "model.onnx"))).Graph;
        Assert.Contains(graph.Node, n => n.OpType == "GatherBlockQuantized");
        Assert.DoesNotContain(graph.Initializer, t => t.Name == "model.embed_tokens.weight");
        var gather = Assert.Single(graph.Node, n => n.OpType == "GatherBlockQuantized");
        var head = Assert.Single(graph.Node, n => n.Name.StartsWith("/lm_head/MatMulNBits", StringComparison.Ordinal));
        // The tied head has its own copy of the table's codes: ONNX Runtime prepacks (and releases) the head's, and maps
        // the table's from the file, so only the rows prompts gather become resident.
        Assert.NotEqual(gather.Input[0], head.Input[1]);
        Assert.Equal(Dims(graph, gather.Input[0]), Dims(graph, head.Input[1]));
        Assert.True(FolderBytes(quantized) < FolderBytes(plain));

        static long[] Dims(Onnx.GraphProto graph, string name) => [.. graph.Initializer.Single(t => t.Name == name).Dims];

        static long FolderBytes(string folder) => Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);
    }

    [Fact]
    public void PromptAccuracyLevel_OutOfRange_IsRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ConversionOptions { PromptAccuracyLevel = 5 }.Validate());
        Assert.Contains("prompt accuracy level", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Perplexity_LastPositionOnlyGraph_EqualsAllPositionsGraph()
    {
        string folder = fixture.Combine("ppl-last");
        await ModelConverter.ConvertLlama2CAsync(fixture.Checkpoint, fixture.Tokenizer, folder, new ConversionOptions { LastPositionLogitsOnly = true, Overwrite = true });

        var all = await PerplexityEvaluator.EvaluateAsync(fixture.Float32, Text, maxTokens: 120);
        var last = await PerplexityEvaluator.EvaluateAsync(folder, Text, maxTokens: 120);

        Assert.Equal(all.Tokens, last.Tokens);
        Assert.Equal(all.Perplexity, last.Perplexity, 1e-3);
    }

    [Fact]
    public void Quantize_Int4AndInt8_RoundTripWithinOneStep()
    {
        var random = new Random(5);
        var weights = Enumerable.Range(0, 7 * 80).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        foreach (int bits in new[] { 4, 8 })
        {
            var (packed, scales, layout) = WeightQuantizer.Quantize(weights, 7, 80, bits, 32);
            var restored = new float[weights.Length];
            if (bits == 4)
            {
                Infera.Numerics.Int4Quantizer.Dequantize(packed, scales, default, layout, restored);
            }
            else
            {
                Infera.Numerics.Int8Quantizer.Dequantize(packed, scales, default, layout, restored);
            }

            Assert.Equal(7 * 3 * 32 * bits / 8, packed.Length);
            for (int i = 0; i < weights.Length; i++)
            {
                float scale = Math.Abs(scales[((i / 80) * 3) + ((i % 80) / 32)]);
                // Half a step, or one step for the largest positive values, which the most negative code's mirror cannot reach.
                Assert.InRange(Math.Abs(restored[i] - weights[i]), 0, scale + 1e-6);
            }
        }
    }

    [Fact]
    public void Quantize_RowsSplitAcrossChunks_EqualsOneCallOverAllRows()
    {
        var random = new Random(9);
        const int Rows = 600, Columns = 96;
        var weights = Enumerable.Range(0, Rows * Columns).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var (packed, scales, layout) = WeightQuantizer.Quantize(weights, Rows, Columns, 4, 32);

        var expectedPacked = new byte[layout.PackedLength];
        var expectedScales = new float[layout.ScaleCount];
        Infera.Numerics.Int4Quantizer.QuantizeSymmetric(weights, layout, expectedPacked, expectedScales);

        Assert.Equal(expectedPacked, packed);
        Assert.Equal(expectedScales, scales);
    }

    [Fact]
    public void Validate_BlockSizeAbove128_Throws()
    {
        var options = new ConversionOptions { Precision = ModelPrecision.Int4, BlockSize = 256 };

        Assert.Throws<ArgumentException>(options.Validate);
    }
}
