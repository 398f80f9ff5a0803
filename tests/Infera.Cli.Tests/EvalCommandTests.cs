using System.Text.Json;

namespace Infera.Tests;

/// <summary><c>infera eval perplexity</c>: the score of a text the model was trained on, with the model's threads and with <c>--threads</c>.</summary>
public sealed class EvalCommandTests : IDisposable
{
    private readonly string _text = Path.Combine(Path.GetTempPath(), "infera-eval-" + Guid.NewGuid().ToString("N") + ".txt");

    public EvalCommandTests() => File.WriteAllText(_text, TestModels.Golden("golden-once-upon-a-time.txt"));

    public void Dispose() => File.Delete(_text);

    [Fact]
    public async Task Perplexity_WithAndWithoutThreads_SameScoreOfAStoryTheModelKnows()
    {
        var model = TestModels.Get(TestModels.Stories260KOnnx);

        var byDefault = await ScoreAsync($"eval perplexity --model \"{model}\" --text \"{_text}\" --json");
        var twoThreads = await ScoreAsync($"eval perplexity --model \"{model}\" --text \"{_text}\" --json --threads 2");

        // The model's own greedy story is likely under it: far below the vocabulary's 512 of a uniform guess.
        Assert.InRange(byDefault, 1.0, 10.0);
        Assert.Equal(byDefault, twoThreads, 1e-3 * byDefault);
    }

    [Fact]
    public async Task Perplexity_ZeroThreads_OneErrorLine()
    {
        var (exit, _, stderr) = await InferaTool.RunAsync($"eval perplexity --model \"{TestModels.Get(TestModels.Stories260KOnnx)}\" --text \"{_text}\" --threads 0");

        Assert.Equal(1, exit);
        Assert.Equal("infera: error: --threads must be at least 1.", stderr.Trim());
    }

    private static async Task<double> ScoreAsync(string arguments)
    {
        var (exit, stdout, stderr) = await InferaTool.RunAsync(arguments);
        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        return json.RootElement.GetProperty("perplexity").GetDouble();
    }
}
