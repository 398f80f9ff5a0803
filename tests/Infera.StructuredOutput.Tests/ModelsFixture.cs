namespace Infera.StructuredOutput.Tests;

/// <summary>Loads each shared model once for the whole test assembly.</summary>
public sealed class ModelsFixture : IAsyncLifetime
{
    public static readonly string[] Names = [TestModels.Stories260KOnnx, TestModels.Stories260KGqa, TestModels.TinyRandomLlamaFp16];

    private readonly Dictionary<string, OnnxModelRunner> _runners = new(StringComparer.Ordinal);

    public OnnxModelRunner this[string name] => _runners[name];

    public async Task InitializeAsync()
    {
        foreach (var name in Names)
        {
            _runners[name] = await OnnxModelRunner.LoadAsync(TestModels.Get(name), new OnnxModelRunnerOptions { MaxConcurrentRequests = 4 });
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var runner in _runners.Values)
        {
            await runner.DisposeAsync();
        }
    }

    /// <summary>A chat client over a loaded model that records every prompt it sends.</summary>
    public (InferaChatClient Client, RecordingRunner Recorder) Client(string name, InferaChatClientOptions? options = null)
    {
        var recorder = new RecordingRunner(this[name]);
        return (new InferaChatClient(recorder, options), recorder);
    }
}

[CollectionDefinition(Name)]
public sealed class ModelsCollection : ICollectionFixture<ModelsFixture>
{
    public const string Name = "models";
}
