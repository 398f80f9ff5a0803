using Infera.Tests;

namespace Infera.Server.Tests;

/// <summary>
/// A server whose models come from a <see cref="DirectoryModelCatalog"/> in a temporary folder: <c>stories</c> (stories260K-gqa) and
/// <c>stories-onnx</c> (stories260K-onnx), each a Modelfile whose FROM names the shared model folder, loaded on demand.
/// </summary>
public sealed class OllamaFixture : IAsyncLifetime
{
    private InferaTestServer? _server;

    public string CatalogRoot { get; } = Path.Combine(Path.GetTempPath(), "infera-ollama-" + Guid.NewGuid().ToString("N"));

    internal InferaTestServer Server => _server!;

    public static void WriteModel(string root, string folder, string modelfile)
    {
        Directory.CreateDirectory(Path.Combine(root, folder));
        File.WriteAllText(Path.Combine(root, folder, "Modelfile"), modelfile);
    }

    public async Task InitializeAsync()
    {
        WriteModel(CatalogRoot, "stories", $"FROM {TestModels.Get(TestModels.Stories260KGqa)}\n");
        WriteModel(CatalogRoot, "stories-onnx", $"FROM {TestModels.Get(TestModels.Stories260KOnnx)}\n");
        _server = await InferaTestServer.StartAsync(options => options.Catalog = new DirectoryModelCatalog(CatalogRoot));
    }

    public HttpClient CreateClient() => Server.CreateClient();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(CatalogRoot, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class OllamaCollection : ICollectionFixture<OllamaFixture>
{
    public const string Name = "ollama";
}
