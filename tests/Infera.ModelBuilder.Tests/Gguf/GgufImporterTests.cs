using System.Security.Cryptography;
using SharedModels = Infera.Tests.TestModels;

namespace Infera.ModelBuilder.Tests;

public sealed class GgufImporterTests
{
    private static string Stories => Path.Combine(SharedModels.Get("stories260K-gguf"), "stories260K-f32.gguf");

    [Fact]
    public async Task ImportAsync_SameContentTwice_ImportsOnceKeyedByContent()
    {
        using var temp = new TempDirectory();
        var options = new GgufImportOptions { CacheDirectory = temp.Combine("cache") };
        string copy = temp.Combine("renamed.gguf");
        File.Copy(Stories, copy);

        string first = await GgufImporter.ImportAsync(Stories, options);
        var written = File.GetLastWriteTimeUtc(Path.Combine(first, "model.onnx"));
        string second = await GgufImporter.ImportAsync(copy, options);

        Assert.Equal(first, second);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(second, "model.onnx")));
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Stories)));
        Assert.Equal(sha, await GgufImporter.ComputeContentKeyAsync(copy));
        Assert.StartsWith(sha[..32], Path.GetFileName(first), StringComparison.Ordinal);
        Assert.Contains(sha, File.ReadAllText(Path.Combine(first, "infera_model.json")), StringComparison.Ordinal);

        // A changed file is a new entry.
        using (var stream = new FileStream(copy, FileMode.Open))
        {
            stream.Seek(-4, SeekOrigin.End);
            stream.WriteByte(0x3c);
        }

        Assert.NotEqual(first, await GgufImporter.ImportAsync(copy, options));
    }

    [Fact]
    public async Task ResolveAsync_OllamaName_FindsBlobThroughManifest()
    {
        using var temp = new TempDirectory();
        string ollama = temp.Combine("ollama");
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Stories)));
        Directory.CreateDirectory(Path.Combine(ollama, "blobs"));
        File.Copy(Stories, Path.Combine(ollama, "blobs", "sha256-" + sha));
        string manifestDir = Path.Combine(ollama, "manifests", "registry.ollama.ai", "library", "stories");
        Directory.CreateDirectory(manifestDir);
        File.WriteAllText(Path.Combine(manifestDir, "260k"), $$"""
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
             "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:{{new string('0', 64)}}","size":2},
             "layers":[{"mediaType":"application/vnd.ollama.image.template","digest":"sha256:{{new string('1', 64)}}","size":10},
                       {"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{{sha}}","size":1054368}]}
            """);
        var options = new GgufImportOptions { CacheDirectory = temp.Combine("cache"), OllamaModelsDirectory = ollama };

        Assert.Equal(Path.Combine(ollama, "blobs", "sha256-" + sha), OllamaModelStore.FindModelBlob("stories:260k", ollama));
        Assert.Equal(OllamaModelStore.FindModelBlob("stories:260k", ollama), OllamaModelStore.FindModelBlob("registry.ollama.ai/library/stories:260k", ollama));
        Assert.Null(OllamaModelStore.FindModelBlob("stories", ollama));
        string? folder = await GgufImporter.ResolveAsync("stories:260k", options);

        Assert.NotNull(folder);
        Assert.StartsWith(sha[..32], Path.GetFileName(folder), StringComparison.Ordinal);
        var (_, text) = GenAI.GenerateGreedy(folder, "Once upon a time", 20);
        Assert.StartsWith("Once upon a time, there was a little girl", text, StringComparison.Ordinal);
        Assert.Null(await GgufImporter.ResolveAsync("no-such-model:latest", options));
    }

    [Fact]
    public async Task ImportAsync_Canceled_LeavesNoCacheEntry()
    {
        using var temp = new TempDirectory();
        string cache = temp.Combine("cache");
        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress(f =>
        {
            if (f > 0.3)
            {
                cts.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => GgufImporter.ImportAsync(Stories, new GgufImportOptions { CacheDirectory = cache }, progress, cts.Token));

        Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(cache, "gguf")), d => Path.GetFileName(d) != "hashes");
    }

    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
