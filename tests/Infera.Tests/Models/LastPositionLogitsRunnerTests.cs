using Infera.ModelBuilder;

namespace Infera.Tests.Models;

/// <summary>A model whose graph computes only the last position's logits ([batch, 1, vocabulary]) through the runner.</summary>
public sealed class LastPositionLogitsRunnerTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("infera-tests-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task Runner_LastPositionLogitsModel_ServesConcurrentRequestsPerRequestWithSequentialTokens()
    {
        var folder = Path.Combine(_scratch, "last");
        await SyntheticModel.CreateAsync(
            new SyntheticModelOptions { Seed = 3, VocabularySize = 300, ContextLength = 128 },
            folder,
            new ConversionOptions { LastPositionLogitsOnly = true });

        await using var runner = await OnnxModelRunner.LoadAsync(folder, new OnnxModelRunnerOptions { IntraOpThreads = 1 });
        int[][] prompts = [[5, 17, 40], [9, 200, 33, 41, 7, 12], [250]];
        var options = new GenerationOptions { MaxNewTokens = 12, Temperature = 0f, StopTokenIds = [] };
        var sequential = new List<int[]>();
        foreach (var prompt in prompts)
        {
            sequential.Add(await Tokens(runner, prompt, options));
        }

        var concurrent = await Task.WhenAll(prompts.Select(p => Tokens(runner, p, options)));

        Assert.Equal(SchedulingMode.PerRequest, runner.SchedulingMode);
        Assert.Contains("last position", runner.SchedulingModeReason, StringComparison.Ordinal);
        Assert.All(sequential, tokens => Assert.NotEmpty(tokens));
        Assert.Equal(sequential, concurrent);
    }

    private static async Task<int[]> Tokens(OnnxModelRunner runner, int[] prompt, GenerationOptions options)
    {
        var tokens = new List<int>();
        await foreach (var update in runner.GenerateAsync(new GenerationRequest(prompt, options)))
        {
            tokens.Add(update.TokenId);
        }

        return [.. tokens];
    }
}
