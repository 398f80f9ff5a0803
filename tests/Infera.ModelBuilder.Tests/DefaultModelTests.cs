namespace Infera.ModelBuilder.Tests;

public sealed class DefaultModelTests
{
    [Fact]
    public async Task EnsureCreatedAsync_EmptyCache_CreatesRunnableLabelledModelOnce()
    {
        using var cache = new TempDirectory();

        string folder = await DefaultModel.EnsureCreatedAsync(cache.Path);
        var firstWrite = File.GetLastWriteTimeUtc(Path.Combine(folder, "model.onnx"));
        string again = await DefaultModel.EnsureCreatedAsync(cache.Path);

        Assert.Equal(folder, again);
        Assert.Equal(firstWrite, File.GetLastWriteTimeUtc(Path.Combine(again, "model.onnx")));
        Assert.Equal("default-" + DefaultModel.Version, Path.GetFileName(folder));
        string description = File.ReadAllText(Path.Combine(folder, "infera_model.json"));
        Assert.Contains(DefaultModel.ModelId, description, StringComparison.Ordinal);
        Assert.Contains("\"random_weights\": true", description, StringComparison.Ordinal);
        Assert.Single(Directory.GetFileSystemEntries(cache.Path));

        var (tokens, _) = GenAI.GenerateGreedy(folder, "Once upon a time", 24);
        Assert.Equal(24, tokens.Length);
    }

    [Fact]
    public async Task CreateAsync_SameSeed_WritesIdenticalWeights()
    {
        using var temp = new TempDirectory();
        var options = new SyntheticModelOptions { Seed = 7, VocabularySize = 300, ContextLength = 64 };

        await SyntheticModel.CreateAsync(options, temp.Combine("a"));
        await SyntheticModel.CreateAsync(options, temp.Combine("b"));
        options.Seed = 8;
        await SyntheticModel.CreateAsync(options, temp.Combine("c"));

        byte[] a = File.ReadAllBytes(temp.Combine("a/model.onnx.data"));
        Assert.Equal(a, File.ReadAllBytes(temp.Combine("b/model.onnx.data")));
        Assert.NotEqual(a, File.ReadAllBytes(temp.Combine("c/model.onnx.data")));
    }
}
