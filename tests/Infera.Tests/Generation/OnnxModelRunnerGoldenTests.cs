namespace Infera.Tests;

/// <summary>ONNX Runtime GenAI's own golden outputs and llama2.c's golden text, reproduced through <see cref="IModelRunner"/>.</summary>
public sealed class OnnxModelRunnerGoldenTests
{
    private static readonly GenerationOptions Greedy6 = new() { Temperature = 0, MaxNewTokens = 6 };

    [Fact]
    public async Task GenerateAsync_Stories260KGreedyOnceUponATime_EqualsLlama2CGolden()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx));
        var golden = TestModels.Golden("golden-once-upon-a-time.txt");
        var prompt = "Once upon a time";

        // llama2.c's golden run covers 256 positions including BOS and the prompt: GenAI's max_length 257.
        var promptTokens = runner.Tokenizer.Encode(prompt);
        var result = await runner.CollectAsync(new GenerationRequest(promptTokens, new GenerationOptions { Temperature = 0, MaxNewTokens = 257 - promptTokens.Length }));

        Assert.Equal(golden.TrimEnd(), (prompt + result.Text).TrimEnd());
    }

    [Fact]
    public async Task GenerateAsync_Stories260KGqaFromBos_EqualsLlama2CGolden()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KGqa));
        var golden = TestModels.Golden("golden-from-bos.txt");

        var result = await runner.CollectAsync(new GenerationRequest([1], new GenerationOptions { Temperature = 0, MaxNewTokens = 256 }));

        // The first piece after BOS is " Once" (SentencePiece's word marker), as in llama.cpp; llama2.c strips that one space.
        Assert.StartsWith(" ", result.Text);
        Assert.Equal(golden.TrimEnd(), result.Text[1..].TrimEnd());
    }

    [Fact]
    public async Task GenerateAsync_TinyRandomGpt2TwoConcurrentPrompts_EqualGenAIGoldenIds()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.TinyRandomGpt2));

        var first = runner.CollectAsync(new GenerationRequest([0, 0, 0, 52], Greedy6));
        var second = runner.CollectAsync(new GenerationRequest([0, 0, 195, 731], Greedy6));
        await Task.WhenAll(first, second);

        Assert.Equal(new[] { 204, 204, 204, 204, 204, 204 }, (await first).Tokens);
        Assert.Equal(new[] { 731, 114, 114, 114, 114, 114 }, (await second).Tokens);
    }

    [Fact]
    public async Task GenerateAsync_TinyRandomGpt2RewoundSequence_ContinuesAsGolden()
    {
        // GenAI's rewind golden: from [0,0,195,731], rewind to 3 tokens and append 731 twice; the sequence continues as in the batch case.
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.TinyRandomGpt2));

        var result = await runner.CollectAsync(new GenerationRequest([0, 0, 195, 731, 731], new GenerationOptions { Temperature = 0, MaxNewTokens = 5 }));

        Assert.Equal(new[] { 114, 114, 114, 114, 114 }, result.Tokens);
    }

    [Fact]
    public async Task GenerateAsync_TinyRandomLlamaFp16_EqualsGenAIGoldenIds()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.TinyRandomLlamaFp16));

        var first = await runner.CollectAsync(new GenerationRequest([0, 0, 0, 52], Greedy6));
        var second = await runner.CollectAsync(new GenerationRequest([0, 0, 195, 731], Greedy6));

        Assert.Equal(new[] { 12102, 30463, 4666, 17192, 3266, 18061 }, first.Tokens);
        Assert.Equal(new[] { 29592, 4877, 18112, 22607, 12936, 997 }, second.Tokens);
    }

    [Theory]
    [InlineData(TestModels.Stories260KOnnx)]
    [InlineData(TestModels.TinyRandomLlamaFp16)]
    [InlineData(TestModels.TinyRandomGpt2)]
    public async Task GenerateAsync_InferaSamplerGreedy_EqualsNativeGreedy(string model)
    {
        await using var native = await OnnxModelRunner.LoadAsync(TestModels.Get(model), new OnnxModelRunnerOptions { SamplingMode = SamplingMode.Native });
        await using var infera = await OnnxModelRunner.LoadAsync(TestModels.Get(model), new OnnxModelRunnerOptions { SamplingMode = SamplingMode.Infera });
        var options = new GenerationOptions { Temperature = 0, MaxNewTokens = 40 };

        var expected = await native.CollectAsync(new GenerationRequest([1, 195, 431], options));
        var actual = await infera.CollectAsync(new GenerationRequest([1, 195, 431], options));

        Assert.Equal(expected.Tokens, actual.Tokens);
    }
}
