using Infera.Tests;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Infera.Models.Tests;

public sealed class ModelLibraryServiceCollectionExtensionsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("infera-models-di-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task AddInferaChatClientFromLibrary_LibraryName_ResolvesLoadsAndAppliesModelfileDefaults()
    {
        var options = new ModelLibraryOptions { RootDirectory = _root, Hub = new HuggingFaceHubOptions { CacheDirectory = Path.Combine(_root, "hf"), Offline = true } };
        using (var library = new ModelLibrary(options))
        {
            await library.CreateAsync("di-model", $"FROM {TestModels.Get(TestModels.Stories260KOnnx)}\nPARAMETER temperature 0\nPARAMETER num_predict 4\n");
        }

        var services = new ServiceCollection();
        services.AddModelLibrary(o => (o.RootDirectory, o.Hub) = (options.RootDirectory, options.Hub));
        services.AddInferaChatClientFromLibrary("di-model");
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<IChatClient>();
        var response = await client.GetResponseAsync("Once upon a time");

        Assert.Equal(4, response.Usage!.OutputTokenCount);
        Assert.StartsWith(", there was", response.Text, StringComparison.Ordinal);
        Assert.Equal("di-model:latest", provider.GetRequiredService<ResolvedModel>().Name);
        Assert.Equal("di-model:latest", provider.GetRequiredService<IModelRunner>().Metadata.ModelId);
    }
}
