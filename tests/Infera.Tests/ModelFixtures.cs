namespace Infera.Tests;

/// <summary>Loads a model once for every test in a class.</summary>
public abstract class ModelFixture(string model, OnnxModelRunnerOptions? options = null) : IAsyncLifetime
{
    public OnnxModelRunner Runner { get; private set; } = null!;

    public async Task InitializeAsync() => Runner = await OnnxModelRunner.LoadAsync(TestModels.Get(model), options);

    public async Task DisposeAsync() => await Runner.DisposeAsync();
}

public sealed class Stories260KFixture() : ModelFixture(TestModels.Stories260KOnnx, new OnnxModelRunnerOptions { MaxConcurrentRequests = 8 });

public sealed class Stories260KGqaFixture() : ModelFixture(TestModels.Stories260KGqa, new OnnxModelRunnerOptions { MaxConcurrentRequests = 8 });

internal static class RunnerExtensions
{
    public static async Task<(int[] Tokens, string Text, GenerationFinishReason? Finish, int PromptTokens)> CollectAsync(this IModelRunner runner, GenerationRequest request, CancellationToken cancellationToken = default)
    {
        var tokens = new List<int>();
        var text = new System.Text.StringBuilder();
        GenerationFinishReason? finish = null;
        var promptTokens = 0;
        await foreach (var update in runner.GenerateAsync(request, cancellationToken))
        {
            tokens.Add(update.TokenId);
            text.Append(update.Text);
            finish = update.FinishReason;
            promptTokens = update.PromptTokenCount;
        }

        return ([.. tokens], text.ToString(), finish, promptTokens);
    }
}
