using Infera.Tests;

namespace Infera.Server.Tests;

/// <summary>One server for the whole suite, serving stories260K-gqa (batched) and stories260K-onnx (one generator per request) with an API key.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string ApiKey = "test-key-6f1c";
    public const string Gqa = TestModels.Stories260KGqa;
    public const string Onnx = TestModels.Stories260KOnnx;

    private InferaTestServer? _server;

    internal InferaTestServer Server => _server!;

    public OnnxModelRunner GqaRunner { get; private set; } = null!;

    public OnnxModelRunner OnnxRunner { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        GqaRunner = await OnnxModelRunner.LoadAsync(TestModels.Get(Gqa), new OnnxModelRunnerOptions { MaxConcurrentRequests = 8 });
        OnnxRunner = await OnnxModelRunner.LoadAsync(TestModels.Get(Onnx), new OnnxModelRunnerOptions { MaxConcurrentRequests = 4 });
        _server = await InferaTestServer.StartAsync(options =>
        {
            options.ApiKey = ApiKey;
            options.AddModel(GqaRunner).AddModel(OnnxRunner);
        });
    }

    public HttpClient CreateClient() => Server.CreateClient(ApiKey);

    /// <summary>The greedy text of a prompt, straight from the runner (no HTTP).</summary>
    public static async Task<string> GreedyAsync(IModelRunner runner, string prompt, int maxTokens)
    {
        var text = new System.Text.StringBuilder();
        await foreach (var update in runner.GenerateAsync(new GenerationRequest(prompt, new GenerationOptions { Temperature = 0, MaxNewTokens = maxTokens })))
        {
            text.Append(update.Text);
        }

        return text.ToString();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        await GqaRunner.DisposeAsync();
        await OnnxRunner.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
