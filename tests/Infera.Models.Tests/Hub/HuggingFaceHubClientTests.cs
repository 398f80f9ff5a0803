using Infera.Tests;

namespace Infera.Models.Tests;

public sealed class HuggingFaceHubClientTests : IAsyncLifetime
{
    private FakeHub _hub = null!;

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _hub.AddRepo("test-org/stories").AddFolder(TestModels.Get(TestModels.Stories260KOnnx), "onnx/");
        _hub.AddRepo("test-org/gated", gated: true).AddFolder(TestModels.Get(TestModels.Stories260KOnnx));
    }

    public async Task DisposeAsync() => await _hub.DisposeAsync();

    [Fact]
    public async Task DownloadFileAsync_LfsFile_FollowsCdnRedirectAndWritesHuggingFaceCacheLayout()
    {
        using var test = new TestLibrary(_hub);
        using var client = new HuggingFaceHubClient(test.HubOptions);
        var repo = await client.GetRepositoryAsync("test-org/stories");
        var file = _hub.Repo("test-org/stories").Files["onnx/model.onnx"];

        var path = await client.DownloadFileAsync(repo, "onnx/model.onnx");

        // huggingface_hub's layout: blobs/{sha256}, snapshots/{commit}/{path} as a relative link (one ../ per folder), refs/main = commit.
        var repoFolder = Path.Combine(test.Cache, "models--test-org--stories");
        Assert.Equal(Path.Combine(repoFolder, "snapshots", repo.Commit, "onnx", "model.onnx"), path);
        Assert.Equal(Path.Combine("..", "..", "..", "blobs", file.Sha256), new FileInfo(path).LinkTarget);
        Assert.Equal(file.Content, await File.ReadAllBytesAsync(Path.Combine(repoFolder, "blobs", file.Sha256)));
        Assert.Equal(file.Content, await File.ReadAllBytesAsync(path));
        Assert.Equal(repo.Commit, await File.ReadAllTextAsync(Path.Combine(repoFolder, "refs", "main")));
        Assert.True(File.Exists(Path.Combine(test.Cache, ".locks", "models--test-org--stories", file.Sha256 + ".lock")));
        Assert.Empty(Directory.EnumerateFiles(repoFolder, "*.incomplete", SearchOption.AllDirectories));

        // The HEAD went to the Hub (not followed to the CDN); the bytes came from the CDN.
        Assert.Contains(_hub.Requests, r => r.StartsWith("HUB HEAD /test-org/stories/resolve/" + repo.Commit + "/onnx/model.onnx", StringComparison.Ordinal));
        Assert.Contains(_hub.Requests, r => r.StartsWith("CDN GET /blobs/" + file.Sha256, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DownloadFileAsync_GitFile_StoredUnderItsBlobIdAndVerified()
    {
        using var test = new TestLibrary(_hub);
        using var client = new HuggingFaceHubClient(test.HubOptions);
        var repo = await client.GetRepositoryAsync("test-org/stories");
        var file = _hub.Repo("test-org/stories").Files["onnx/genai_config.json"];

        var path = await client.DownloadFileAsync(repo, "onnx/genai_config.json");

        Assert.Equal(Path.Combine("..", "..", "..", "blobs", file.GitBlobId), new FileInfo(path).LinkTarget);
        Assert.Equal(file.Content, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task DownloadFileAsync_TransferCutInTheMiddle_ResumesWithRange()
    {
        using var test = new TestLibrary(_hub);
        using var client = new HuggingFaceHubClient(test.HubOptions);
        var file = _hub.Repo("test-org/stories").Files["onnx/model.onnx"];
        long cut = file.Content.Length / 2;
        file.CutAfterBytes = cut;
        file.CutsLeft = 1;
        var repo = await client.GetRepositoryAsync("test-org/stories");

        var path = await client.DownloadFileAsync(repo, "onnx/model.onnx");

        Assert.Equal(file.Content, await File.ReadAllBytesAsync(path));
        var cdn = _hub.Requests.Where(r => r.StartsWith("CDN GET", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, cdn.Count);
        Assert.DoesNotContain("range=", cdn[0], StringComparison.Ordinal);
        Assert.Contains($"range=bytes={cut}-", cdn[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DownloadFileAsync_CanceledMidway_KeepsPartialAndNextCallResumes()
    {
        using var test = new TestLibrary(_hub);
        var file = _hub.Repo("test-org/stories").Files["onnx/model.onnx"];
        file.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var client = new HuggingFaceHubClient(test.HubOptions))
        {
            var repo = await client.GetRepositoryAsync("test-org/stories");
            using var cts = new CancellationTokenSource();
            var download = client.DownloadFileAsync(repo, "onnx/model.onnx", new SyncProgress(p =>
            {
                if (p.Status == "downloading" && p.Completed >= file.Content.Length / 2)
                {
                    cts.Cancel();
                }
            }), cts.Token);
            await file.HalfSent.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => download).WaitAsync(TimeSpan.FromSeconds(30));
        }

        file.Gate.TrySetResult();
        file.Gate = null;
        var partial = Path.Combine(test.Cache, "models--test-org--stories", "blobs", file.Sha256 + ".incomplete");
        long kept = new FileInfo(partial).Length;
        Assert.InRange(kept, file.Content.Length / 2, file.Content.Length - 1);
        Assert.False(File.Exists(Path.Combine(test.Cache, "models--test-org--stories", "blobs", file.Sha256)));

        using var again = new HuggingFaceHubClient(test.HubOptions);
        var path = await again.DownloadFileAsync(await again.GetRepositoryAsync("test-org/stories"), "onnx/model.onnx");

        Assert.Equal(file.Content, await File.ReadAllBytesAsync(path));
        Assert.Contains(_hub.Requests, r => r.Contains($"range=bytes={kept}-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DownloadFileAsync_ServerIgnoresRange_RestartsFromByteZero()
    {
        using var test = new TestLibrary(_hub);
        using var client = new HuggingFaceHubClient(test.HubOptions);
        var file = _hub.Repo("test-org/stories").Files["onnx/model.onnx"];
        file.IgnoreRange = true;
        file.CutAfterBytes = file.Content.Length / 3;
        file.CutsLeft = 1;

        var path = await client.DownloadFileAsync(await client.GetRepositoryAsync("test-org/stories"), "onnx/model.onnx");

        Assert.Equal(file.Content, await File.ReadAllBytesAsync(path));
        Assert.Contains(_hub.Requests, r => r.Contains("range=bytes=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DownloadFileAsync_BytesDoNotMatchSha256_RejectedAndNothingCached()
    {
        using var test = new TestLibrary(_hub);
        using var client = new HuggingFaceHubClient(test.HubOptions);
        var file = _hub.Repo("test-org/stories").Files["onnx/model.onnx"];
        file.CorruptServedBytes = true;
        var repo = await client.GetRepositoryAsync("test-org/stories");

        var error = await Assert.ThrowsAsync<HuggingFaceHubException>(() => client.DownloadFileAsync(repo, "onnx/model.onnx"));

        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
        var repoFolder = Path.Combine(test.Cache, "models--test-org--stories");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(repoFolder, "blobs")));
        Assert.False(File.Exists(Path.Combine(repoFolder, "snapshots", repo.Commit, "onnx", "model.onnx")));
    }

    [Fact]
    public async Task GetRepositoryAsync_GatedRepoWithoutToken_ErrorNamesHfToken()
    {
        using var test = new TestLibrary(_hub);
        using var client = new HuggingFaceHubClient(test.HubOptions);

        var error = await Assert.ThrowsAsync<HuggingFaceHubException>(() => client.GetRepositoryAsync("test-org/gated"));

        Assert.Equal("GatedRepo", error.ErrorCode);
        Assert.Contains("HF_TOKEN", error.Message, StringComparison.Ordinal);
        Assert.Contains("no HF_TOKEN is set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DownloadFileAsync_GatedRepoWithToken_SendsTokenToHubOnly()
    {
        using var test = new TestLibrary(_hub, token: _hub.ValidToken);
        using var client = new HuggingFaceHubClient(test.HubOptions);

        var repo = await client.GetRepositoryAsync("test-org/gated");
        await client.DownloadFileAsync(repo, "model.onnx");

        Assert.All(_hub.Requests.Where(r => r.StartsWith("HUB", StringComparison.Ordinal)), r => Assert.EndsWith(" auth", r, StringComparison.Ordinal));
        Assert.All(_hub.Requests.Where(r => r.StartsWith("CDN", StringComparison.Ordinal)), r => Assert.DoesNotContain("auth", r, StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetRepositoryAsync_GatedRepoWithWrongToken_SaysTheTokenHasNoAccess()
    {
        using var test = new TestLibrary(_hub, token: "hf_wrong");
        using var client = new HuggingFaceHubClient(test.HubOptions);

        var error = await Assert.ThrowsAsync<HuggingFaceHubException>(() => client.GetRepositoryAsync("test-org/gated"));

        Assert.Equal("GatedRepo", error.ErrorCode);
        Assert.Contains("token in HF_TOKEN", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("test-org/missing", "main", "RepoNotFound", "was not found")]
    [InlineData("test-org/stories", "no-such-branch", "RevisionNotFound", "Revision 'no-such-branch' was not found")]
    public async Task GetRepositoryAsync_UnknownRepoOrRevision_ClearError(string repoId, string revision, string code, string message)
    {
        using var test = new TestLibrary(_hub);
        using var client = new HuggingFaceHubClient(test.HubOptions);

        var error = await Assert.ThrowsAsync<HuggingFaceHubException>(() => client.GetRepositoryAsync(repoId, revision));

        Assert.Equal(code, error.ErrorCode);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DownloadFileAsync_MissingFile_EntryNotFound()
    {
        using var test = new TestLibrary(_hub);
        using var client = new HuggingFaceHubClient(test.HubOptions);
        var repo = await client.GetRepositoryAsync("test-org/stories");

        var error = await Assert.ThrowsAsync<HuggingFaceHubException>(() => client.DownloadFileAsync(repo, "nope.bin"));

        Assert.Equal("EntryNotFound", error.ErrorCode);
        Assert.Contains("'nope.bin' does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRepositoryAsync_HubAnswers503Twice_RetriesAndSucceeds()
    {
        using var test = new TestLibrary(_hub);
        using var client = new HuggingFaceHubClient(test.HubOptions);
        _hub.FailNextMetadataRequests = 2;

        var repo = await client.GetRepositoryAsync("test-org/stories", "v1");

        Assert.Equal(_hub.Repo("test-org/stories").Commit, repo.Commit);
        Assert.Equal(3, _hub.Requests.Count(r => r.StartsWith("HUB GET /api/models/test-org/stories/revision/v1", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Offline_AfterDownload_ServesFromCacheWithoutRequests()
    {
        using var test = new TestLibrary(_hub);
        using (var online = new HuggingFaceHubClient(test.HubOptions))
        {
            await online.DownloadFileAsync(await online.GetRepositoryAsync("test-org/stories"), "onnx/model.onnx");
        }

        test.HubOptions.Offline = true;
        using var offline = new HuggingFaceHubClient(test.HubOptions);
        int before = _hub.Requests.Count;

        var repo = await offline.GetRepositoryAsync("test-org/stories");
        var path = await offline.DownloadFileAsync(repo, "onnx/model.onnx");
        var missing = await Assert.ThrowsAsync<HuggingFaceHubException>(() => offline.DownloadFileAsync(repo, "onnx/tokenizer.json"));

        Assert.Equal(before, _hub.Requests.Count);
        Assert.Equal(_hub.Repo("test-org/stories").Commit, repo.Commit);
        Assert.True(File.Exists(path));
        Assert.Contains("HF_HUB_OFFLINE", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DownloadFileAsync_NotEnoughDiskSpace_ClearErrorAndNoPartialFile()
    {
        using var test = new TestLibrary(_hub);
        using var client = new HuggingFaceHubClient(test.HubOptions) { FreeSpaceProbe = _ => 1000 };
        var repo = await client.GetRepositoryAsync("test-org/stories");

        var error = await Assert.ThrowsAsync<ModelLibraryException>(() => client.DownloadFileAsync(repo, "onnx/model.onnx"));

        Assert.Contains("Not enough disk space", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(test.Cache, "models--test-org--stories"), "*", SearchOption.AllDirectories), f => f.Contains("blobs", StringComparison.Ordinal));
    }

    private sealed class SyncProgress(Action<ModelPullProgress> report) : IProgress<ModelPullProgress>
    {
        public void Report(ModelPullProgress value) => report(value);
    }
}
