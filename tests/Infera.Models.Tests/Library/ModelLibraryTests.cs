using System.Text;
using Infera.Tests;
using Microsoft.Extensions.AI;

namespace Infera.Models.Tests;

public sealed class ModelLibraryTests : IAsyncLifetime
{
    private const string Onnx = "test-org/stories260K-onnx";
    private FakeHub _hub = null!;

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _hub.AddRepo(Onnx).AddFolder(TestModels.Get(TestModels.Stories260KOnnx));
        var multi = _hub.AddRepo("test-org/multi");
        multi.AddFolder(TestModels.Get(TestModels.Stories260KOnnx), "cuda/cuda-int4-rtn-block-32/");
        multi.AddFolder(TestModels.Get(TestModels.Stories260KOnnx), "cpu_and_mobile/cpu-fp32/");
        multi.AddFolder(TestModels.Get(TestModels.Stories260KOnnx), "cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4/");
        multi.AddFile("README.md", Encoding.UTF8.GetBytes("# multi\n"));
        var hf = _hub.AddRepo("test-org/stories260K-hf", license: "apache-2.0");
        foreach (var (path, content) in Llama2CToHuggingFace.CreateFiles())
        {
            hf.AddFile(path, content);
        }

        _hub.AddRepo("test-org/stories260K-GGUF").AddFolder(TestModels.Get(TestModels.Stories260KGguf));
        _hub.AddRepo("test-org/empty").AddFile("README.md", Encoding.UTF8.GetBytes("nothing here\n"));
    }

    public async Task DisposeAsync() => await _hub.DisposeAsync();

    [Fact]
    public async Task PullAsync_GenAIRepo_RunsByNameAndEqualsLlama2CGolden()
    {
        using var test = new TestLibrary(_hub);
        var statuses = new List<string>();

        var pulled = await test.Library.PullAsync(Onnx, progress: new SyncProgress(p => statuses.Add(p.Status)));

        Assert.Equal("test-org/stories260k-onnx:latest", pulled.Name);
        Assert.Equal(Onnx, pulled.Manifest.Source.Repository);
        Assert.Equal(_hub.Repo(Onnx).Commit, pulled.Manifest.Source.Commit);
        Assert.Equal("onnxruntime-genai", pulled.Manifest.Source.Format);
        Assert.Equal("llama", pulled.Manifest.Architecture);
        Assert.Equal(512, pulled.Manifest.ContextLength);
        Assert.Equal("mit", pulled.Manifest.License);
        Assert.Equal(
            _hub.Repo(Onnx).Files.Values.Select(f => (f.Path, f.Sha256)).OrderBy(f => f.Path, StringComparer.Ordinal),
            pulled.Manifest.Files.Select(f => (f.Path, f.Sha256!)));
        Assert.Equal("pulling manifest", statuses[0]);
        Assert.Contains("downloading", statuses);
        Assert.Equal("success", statuses[^1]);

        // The name, the Hub id in any case, and the name with its tag all load the model.
        using var client = await test.Library.LoadChatClientAsync("Test-Org/Stories260K-ONNX");
        var text = await GreedyAsync(client, 257 - 5);
        Assert.Equal(TestModels.Golden("golden-once-upon-a-time.txt").TrimEnd(), ("Once upon a time" + text).TrimEnd());
        Assert.Equal(pulled.ModelDirectory, (await test.Library.ResolveAsync("test-org/stories260k-onnx:latest")).ModelDirectory);
    }

    [Fact]
    public async Task PullAsync_SafetensorsRepo_ConvertsToFp32AndEqualsLlama2CGolden()
    {
        using var test = new TestLibrary(_hub);

        var pulled = await test.Library.PullAsync("test-org/stories260K-hf");

        Assert.Equal("safetensors", pulled.Manifest.Source.Format);
        Assert.Equal("fp32", pulled.Manifest.Precision);
        Assert.Equal(Llama2CToHuggingFace.ParameterCount, pulled.Manifest.ParameterCount);
        Assert.Equal("apache-2.0", pulled.Manifest.License);
        Assert.DoesNotContain(pulled.Manifest.Source.Files, f => f.Path == "README.md");
        Assert.True(File.Exists(Path.Combine(pulled.ModelDirectory, "genai_config.json")));
        using var client = await test.Library.LoadChatClientAsync(pulled.Name);
        var text = await GreedyAsync(client, 64);
        Assert.StartsWith(("Once upon a time" + text).TrimEnd(), TestModels.Golden("golden-once-upon-a-time.txt"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_GgufRepo_ImportedAndEqualsLlama2CGolden()
    {
        using var test = new TestLibrary(_hub);

        var pulled = await test.Library.PullAsync("test-org/stories260K-GGUF");

        Assert.Equal("gguf", pulled.Manifest.Source.Format);
        Assert.Equal("f32", pulled.Manifest.Precision);
        Assert.Equal("stories260K-f32.gguf", Assert.Single(pulled.Manifest.Source.Files).Path);
        using var client = await test.Library.LoadChatClientAsync(pulled.Name);
        var text = await GreedyAsync(client, 64);
        Assert.StartsWith(("Once upon a time" + text).TrimEnd(), TestModels.Golden("golden-once-upon-a-time.txt"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_RepoWithSeveralGenAIFolders_PicksTheCpuInt4FolderOrTheIncludedOne()
    {
        using var test = new TestLibrary(_hub);

        var automatic = await test.Library.PullAsync("test-org/multi");
        var included = await test.Library.PullAsync("test-org/multi", new ModelPullOptions { Include = "cpu_and_mobile/cpu-fp32/*", Name = "multi:fp32" });

        Assert.Equal("cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4", automatic.Manifest.Source.Subfolder);
        Assert.Equal("int4", automatic.Manifest.Precision);
        Assert.Equal("cpu_and_mobile/cpu-fp32", included.Manifest.Source.Subfolder);
        Assert.Equal("multi:fp32", included.Name);
        Assert.DoesNotContain(_hub.Requests, r => r.Contains("/cuda/", StringComparison.Ordinal) || r.Contains("README", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(automatic.ModelDirectory, "model.onnx")));
    }

    [Fact]
    public async Task PullAsync_FileDoesNotMatchSha256_RejectedAndNothingRunnableLeft()
    {
        using var test = new TestLibrary(_hub);
        _hub.Repo(Onnx).Files["model.onnx"].CorruptServedBytes = true;

        var error = await Assert.ThrowsAsync<HuggingFaceHubException>(() => test.Library.PullAsync(Onnx));

        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
        Assert.Empty(await test.Library.ListAsync());
        Assert.Empty(test.LibraryEntries());
        await Assert.ThrowsAsync<ModelNotFoundException>(() => test.Library.ResolveAsync(Onnx));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(test.Cache, "models--test-org--stories260K-onnx", "blobs"), "*.incomplete"));
    }

    [Fact]
    public async Task PullAsync_CanceledDuringDownload_NothingInLibraryAndTheNextPullResumes()
    {
        using var test = new TestLibrary(_hub);
        var file = _hub.Repo(Onnx).Files["model.onnx"];
        file.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource();
        var pull = test.Library.PullAsync(Onnx, cancellationToken: cts.Token);
        await file.HalfSent.Task.WaitAsync(TimeSpan.FromSeconds(60));

        // Cancel once the client has written some of the sent half to its partial file (the server sending it is not enough).
        var partial = Path.Combine(test.Cache, "models--test-org--stories260K-onnx", "blobs", file.Sha256 + ".incomplete");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!(File.Exists(partial) && new FileInfo(partial).Length > 0) && waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(10);
        }

        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pull).WaitAsync(TimeSpan.FromSeconds(60));
        file.Gate.TrySetResult();
        file.Gate = null;

        Assert.Empty(test.LibraryEntries());
        long kept = new FileInfo(partial).Length;
        Assert.True(kept > 0);

        var pulled = await test.Library.PullAsync(Onnx);

        Assert.Contains(_hub.Requests, r => r.Contains($"range=bytes={kept}-", StringComparison.Ordinal));
        Assert.Equal(file.Sha256, pulled.Manifest.Files.Single(f => f.Path == "model.onnx").Sha256);
    }

    [Fact]
    public async Task PullAsync_TwoPullsOfOneModelAtOnce_BothSucceedSharingOneDownloadAndFolder()
    {
        using var test = new TestLibrary(_hub);
        using var second = new ModelLibrary(new ModelLibraryOptions { RootDirectory = test.Library.RootDirectory, Hub = test.HubOptions });
        var file = _hub.Repo(Onnx).Files["model.onnx"];
        file.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = test.Library.PullAsync(Onnx);
        await file.HalfSent.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var other = second.PullAsync(Onnx, progress: new SyncProgress(p =>
        {
            if (p.Status == "waiting for another pull")
            {
                waiting.TrySetResult();
            }
        }));
        await waiting.Task.WaitAsync(TimeSpan.FromSeconds(60));
        file.Gate.TrySetResult();
        var results = await Task.WhenAll(first, other).WaitAsync(TimeSpan.FromSeconds(120));

        Assert.Equal(results[0].ModelDirectory, results[1].ModelDirectory);
        Assert.Single(Directory.EnumerateDirectories(Path.Combine(test.Library.RootDirectory, "models")));
        Assert.Single(_hub.Requests, r => r.StartsWith("CDN GET /blobs/" + file.Sha256, StringComparison.Ordinal));
        Assert.Equal(file.Content, await File.ReadAllBytesAsync(Path.Combine(results[0].ModelDirectory, "model.onnx")));
    }

    [Fact]
    public async Task PullAsync_NotEnoughDiskSpace_ClearErrorAndNothingHalfWritten()
    {
        using var test = new TestLibrary(_hub);
        test.Library.Hub.FreeSpaceProbe = _ => 4096;

        var error = await Assert.ThrowsAsync<ModelLibraryException>(() => test.Library.PullAsync(Onnx));

        Assert.Contains("Not enough disk space", error.Message, StringComparison.Ordinal);
        Assert.Empty(test.LibraryEntries());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(test.Cache, "models--test-org--stories260K-onnx", "blobs"), "*.incomplete"));
    }

    [Fact]
    public async Task PullAsync_RepoWithoutRunnableFiles_SaysWhatIsNeeded()
    {
        using var test = new TestLibrary(_hub);

        var error = await Assert.ThrowsAsync<ModelLibraryException>(() => test.Library.PullAsync("test-org/empty"));

        Assert.Contains("no files Infera can run", error.Message, StringComparison.Ordinal);
        Assert.Contains("README.md", error.Message, StringComparison.Ordinal);
        Assert.Empty(test.LibraryEntries());
    }

    [Theory]
    [InlineData("test-org/nope", "RepoNotFound")]
    [InlineData("test-org/stories260K-onnx@nope", "RevisionNotFound")]
    public async Task PullAsync_UnknownRepoOrRevision_HubErrorAndNothingWritten(string reference, string code)
    {
        using var test = new TestLibrary(_hub);

        var error = await Assert.ThrowsAsync<HuggingFaceHubException>(() => test.Library.PullAsync(reference));

        Assert.Equal(code, error.ErrorCode);
        Assert.Empty(test.LibraryEntries());
    }

    [Fact]
    public async Task PullAsync_Revision_StoredUnderATagOfThatRevision()
    {
        using var test = new TestLibrary(_hub);

        var pulled = await test.Library.PullAsync(Onnx + "@v1");

        Assert.Equal("test-org/stories260k-onnx:v1", pulled.Name);
        Assert.Equal("v1", pulled.Manifest.Source.Revision);
        Assert.Equal(_hub.Repo(Onnx).Commit, await File.ReadAllTextAsync(Path.Combine(test.Cache, "models--test-org--stories260K-onnx", "refs", "v1")));
    }

    [Fact]
    public async Task ResolveAsync_UnknownHubIdWithAllowPull_PullsIt()
    {
        using var test = new TestLibrary(_hub);

        var resolved = await test.Library.ResolveAsync(Onnx, new ModelResolveOptions { AllowPull = true });
        var notAllowed = await Assert.ThrowsAsync<ModelNotFoundException>(() => test.Library.ResolveAsync("test-org/multi"));

        Assert.Equal("test-org/stories260k-onnx:latest", resolved.Name);
        Assert.Contains("infera pull test-org/multi", notAllowed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_FolderPath_UsedAsIs()
    {
        using var test = new TestLibrary(_hub);
        var folder = TestModels.Get(TestModels.Stories260KOnnx);

        var resolved = await test.Library.ResolveAsync(folder);

        Assert.Null(resolved.Name);
        Assert.Equal(Path.GetFullPath(folder), resolved.ModelDirectory);
        Assert.True(resolved.Parameters.IsEmpty);
    }

    [Theory]
    [InlineData("no such model", "not a valid model name")]
    [InlineData("./missing-folder", "does not exist")]
    [InlineData("nothing:here", "is not in the library")]
    public async Task ResolveAsync_BadNames_ModelNotFoundWithReason(string name, string message)
    {
        using var test = new TestLibrary(_hub);

        var error = await Assert.ThrowsAsync<ModelNotFoundException>(() => test.Library.ResolveAsync(name));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static async Task<string> GreedyAsync(IChatClient client, int maxTokens)
    {
        var text = new StringBuilder();
        await foreach (var update in client.GetStreamingResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = maxTokens }))
        {
            text.Append(update.Text);
        }

        return text.ToString();
    }

    private sealed class SyncProgress(Action<ModelPullProgress> report) : IProgress<ModelPullProgress>
    {
        public void Report(ModelPullProgress value) => report(value);
    }
}
