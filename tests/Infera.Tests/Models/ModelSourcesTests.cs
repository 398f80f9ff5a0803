using Infera.ModelBuilder;
using Microsoft.Extensions.AI;

namespace Infera.Tests;

public sealed class ModelSourcesTests : IDisposable
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "infera-sources-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task LoadAsync_GgufFileWithImporterRegistered_ImportsAndGeneratesGreedyText()
    {
        GgufImporter.RegisterModelSource(new GgufImportOptions { CacheDirectory = _cache });
        string gguf = Path.Combine(TestModels.Get(TestModels.Stories260KGguf), "stories260K-f32.gguf");

        using var client = await InferaChatClient.LoadAsync(gguf);
        var response = await client.GetResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 12 });

        Assert.StartsWith(", there was a little girl", response.Text, StringComparison.Ordinal);
        Assert.Single(Directory.GetDirectories(Path.Combine(_cache, "gguf")), d => Path.GetFileName(d) != "hashes");
    }

    [Fact]
    public async Task ResolveAsync_Folder_ReturnsItUnchanged()
    {
        string folder = TestModels.Get(TestModels.Stories260KOnnx);

        Assert.Equal(folder, await ModelSources.ResolveAsync(folder));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_cache, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
