using SharedModels = Infera.Tests.TestModels;
namespace Infera.ModelBuilder.Tests;

public sealed class ReferenceLogitsTests(Llama2CConversionFixture fixture) : IClassFixture<Llama2CConversionFixture>
{
    private static readonly int[] Story = [1, 403, 407, 261, 400, 263, 333, 406, 505, 281, 500, 262, 449, 302, 275, 409, 266, 328, 410, 46];

    internal static double RelativeError(float[] actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(actual[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
        }

        return maxDiff / Math.Max(maxRef, 1e-12);
    }

    internal static double MaxRelativeError(float[][] actual, float[][] expected) =>
        actual.Zip(expected, RelativeError).Max();

    [Fact]
    public void PromptLogits_Stories260KFloat32_MatchReferenceWithin1e4()
    {
        using var source = Llama2CCheckpoint.Open(fixture.Checkpoint);
        var expected = new ReferenceTransformer(source).Run(Story);

        var actual = GenAI.PromptLogits(fixture.Float32, Story);

        Assert.Equal(Story.Length, actual.Length);
        Assert.InRange(MaxRelativeError(actual, expected), 0, 1e-4);
    }

    [Fact]
    public void StepLogits_Stories260KFloat32_MatchReferenceWithin1e4()
    {
        using var source = Llama2CCheckpoint.Open(fixture.Checkpoint);
        var expected = new ReferenceTransformer(source).Run(Story);

        var actual = GenAI.StepLogits(fixture.Float32, Story);

        Assert.InRange(MaxRelativeError(actual, expected), 0, 1e-4);
    }

    [Theory]
    [InlineData(ModelArchitecture.Llama, 64, 8, 2, null)]
    [InlineData(ModelArchitecture.Llama, 96, 4, 4, null)]
    [InlineData(ModelArchitecture.Qwen2, 64, 4, 2, null)]
    [InlineData(ModelArchitecture.Mistral, 64, 4, 1, 4)]
    [InlineData(ModelArchitecture.Phi3, 80, 4, 2, null)]
    public async Task StepLogits_SyntheticArchitectures_MatchReferenceWithin1e4(ModelArchitecture architecture, int hidden, int heads, int kvHeads, int? slidingWindow)
    {
        using var temp = new TempDirectory();
        var shape = new SyntheticModelOptions
        {
            Architecture = architecture,
            HiddenSize = hidden,
            HeadCount = heads,
            KeyValueHeadCount = kvHeads,
            IntermediateSize = 96,
            LayerCount = 2,
            VocabularySize = 300,
            ContextLength = 64,
            Seed = 3,
        };
        var config = SyntheticModel.ToConfig(shape, null) with { SlidingWindow = slidingWindow };
        using var source = new SyntheticWeightSource(config, shape.Seed);
        var result = await ModelWriterForTests.WriteAsync(source, temp.Combine("model"), new ConversionOptions());
        int[] tokens = [1, 5, 77, 200, 13, 299, 42, 8, 150, 151, 152];
        var expected = new ReferenceTransformer(source).Run(tokens);

        var actual = GenAI.StepLogits(result, tokens);
        var prompt = GenAI.PromptLogits(result, tokens);

        Assert.InRange(MaxRelativeError(actual, expected), 0, 1e-4);
        Assert.InRange(MaxRelativeError(prompt, expected), 0, 1e-4);
    }

    [Fact]
    public async Task PromptLogits_LastPositionOnlyGraph_MatchesReferenceAtLastPosition()
    {
        using var temp = new TempDirectory();
        var options = new ConversionOptions { LastPositionLogitsOnly = true };
        string folder = temp.Combine("last");
        await ModelConverter.ConvertLlama2CAsync(fixture.Checkpoint, fixture.Tokenizer, folder, options);
        using var source = Llama2CCheckpoint.Open(fixture.Checkpoint);
        var expected = new ReferenceTransformer(source).Run(Story);

        var prompt = GenAI.PromptLogits(folder, Story);
        var steps = GenAI.StepLogits(folder, Story);
        var (_, text) = GenAI.GenerateGreedy(folder, "Once upon a time", 257);

        // The logits output is [batch, 1, vocabulary] for prompts: GenAI binds one position, the last.
        Assert.Single(prompt);
        Assert.InRange(RelativeError(prompt[^1], expected[^1]), 0, 1e-4);
        Assert.InRange(MaxRelativeError(steps, expected), 0, 1e-4);
        Assert.Equal(File.ReadAllText(Path.Combine(SharedModels.Get(SharedModels.Stories260K), "golden-once-upon-a-time.txt")).TrimEnd('\n'), text.TrimEnd('\n'));
    }

    [Theory]
    [InlineData(ModelPrecision.Float32)]
    [InlineData(ModelPrecision.Float16)]
    public async Task GenerateGreedy_StandardOperatorGraph_ReproducesGoldenText(ModelPrecision precision)
    {
        using var temp = new TempDirectory();
        string folder = temp.Combine("standard");
        await ModelConverter.ConvertLlama2CAsync(fixture.Checkpoint, fixture.Tokenizer, folder, new ConversionOptions { GraphStyle = GraphStyle.Standard, Precision = precision });
        using var source = Llama2CCheckpoint.Open(fixture.Checkpoint);
        var expected = new ReferenceTransformer(source).Run(Story);

        var steps = GenAI.StepLogits(folder, Story);
        var prompt = GenAI.PromptLogits(folder, Story);

        double tolerance = precision == ModelPrecision.Float32 ? 1e-4 : 1e-2;
        Assert.InRange(MaxRelativeError(steps, expected), 0, tolerance);
        Assert.InRange(MaxRelativeError(prompt, expected), 0, tolerance);
        Assert.DoesNotContain("com.microsoft", File.ReadAllText(Path.Combine(folder, "model.onnx")), StringComparison.Ordinal);
        if (precision == ModelPrecision.Float32)
        {
            var (_, text) = GenAI.GenerateGreedy(folder, "Once upon a time", 257);
            Assert.Equal(File.ReadAllText(Path.Combine(SharedModels.Get(SharedModels.Stories260K), "golden-once-upon-a-time.txt")).TrimEnd('\n'), text.TrimEnd('\n'));
        }
    }

    [Theory]
    [InlineData(ModelArchitecture.Llama, 64, 8, 2, null)]
    [InlineData(ModelArchitecture.Qwen2, 64, 4, 2, null)]
    [InlineData(ModelArchitecture.Mistral, 64, 4, 1, 4)]
    public async Task StepLogits_StandardOperatorGraphSynthetic_MatchReferenceWithin1e4(ModelArchitecture architecture, int hidden, int heads, int kvHeads, int? slidingWindow)
    {
        using var temp = new TempDirectory();
        using var source = HuggingFaceConversionTests.Source(architecture, slidingWindow, hidden: hidden, heads: heads, kvHeads: kvHeads);
        var folder = await ModelWriterForTests.WriteAsync(source, temp.Combine("model"), new ConversionOptions { GraphStyle = GraphStyle.Standard });
        int[] tokens = [1, 5, 77, 200, 13, 299, 42, 8, 150, 151, 152];
        var expected = new ReferenceTransformer(source).Run(tokens);

        Assert.InRange(MaxRelativeError(GenAI.StepLogits(folder, tokens), expected), 0, 1e-4);
        Assert.InRange(MaxRelativeError(GenAI.PromptLogits(folder, tokens), expected), 0, 1e-4);
    }
}
