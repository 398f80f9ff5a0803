namespace Infera.Tests;

public sealed class OnnxModelRunnerGoldenTests
{
    [Fact]
    public async Task GenerateAsync_Stories260KGreedyOnceUponATime_EqualsLlama2CGolden()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx));
        var golden = TestModels.Golden("golden-once-upon-a-time.txt");
        var prompt = "Once upon a time";

        // llama2.c's golden run covers 256 positions including BOS and the prompt: GenAI's max_length 257.
        var promptTokens = runner.Tokenizer.Encode(prompt);
        var text = new System.Text.StringBuilder();
        await foreach (var update in runner.GenerateAsync(new GenerationRequest(promptTokens, new GenerationOptions { Temperature = 0, MaxNewTokens = 257 - promptTokens.Length })))
        {
            text.Append(update.Text);
        }

        Assert.Equal(golden.TrimEnd(), (prompt + text).TrimEnd());
    }
}
