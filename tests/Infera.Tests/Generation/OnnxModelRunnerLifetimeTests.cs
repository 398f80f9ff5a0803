namespace Infera.Tests;

/// <summary>Loading errors, queue limits and disposal, each with its own runner.</summary>
public sealed class OnnxModelRunnerLifetimeTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("infera-tests-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task LoadAsync_MissingFolder_ThrowsModelLoadExceptionNamingIt()
    {
        var path = Path.Combine(_scratch, "no-such-model");

        var ex = await Assert.ThrowsAsync<ModelLoadException>(() => OnnxModelRunner.LoadAsync(path));

        Assert.Contains("does not exist", ex.Message);
        Assert.Equal(path, ex.ModelPath);
    }

    [Fact]
    public async Task LoadAsync_BrokenGenAIConfig_ThrowsModelLoadExceptionNamingTheFile()
    {
        var folder = CopyModel(TestModels.Stories260KOnnx);
        await File.WriteAllTextAsync(Path.Combine(folder, "genai_config.json"), "{ \"model\": { \"type\": \"llama\", ");

        var ex = await Assert.ThrowsAsync<ModelLoadException>(() => OnnxModelRunner.LoadAsync(folder));

        Assert.Contains("genai_config.json", ex.Message);
        Assert.Contains("not valid JSON", ex.Message);
    }

    [Fact]
    public async Task LoadAsync_ConfigWithoutContextLength_ThrowsModelLoadException()
    {
        var folder = CopyModel(TestModels.Stories260KOnnx);
        var config = await File.ReadAllTextAsync(Path.Combine(folder, "genai_config.json"));
        await File.WriteAllTextAsync(Path.Combine(folder, "genai_config.json"), config.Replace("\"context_length\"", "\"context_len\""));

        var ex = await Assert.ThrowsAsync<ModelLoadException>(() => OnnxModelRunner.LoadAsync(folder));

        Assert.Contains("context_length", ex.Message);
    }

    [Fact]
    public async Task LoadAsync_CorruptModelFile_ThrowsModelLoadException()
    {
        var folder = CopyModel(TestModels.Stories260KOnnx);
        var model = Path.Combine(folder, "model.onnx");
        var bytes = await File.ReadAllBytesAsync(model);
        await File.WriteAllBytesAsync(model, bytes[..(bytes.Length / 3)]);

        var ex = await Assert.ThrowsAsync<ModelLoadException>(() => OnnxModelRunner.LoadAsync(folder));

        Assert.Contains("could not load", ex.Message);
    }

    [Fact]
    public async Task LoadAsync_MissingModelFile_ThrowsModelLoadExceptionNamingIt()
    {
        var folder = CopyModel(TestModels.Stories260KOnnx);
        File.Delete(Path.Combine(folder, "model.onnx"));

        var ex = await Assert.ThrowsAsync<ModelLoadException>(() => OnnxModelRunner.LoadAsync(folder));

        Assert.Contains("model.onnx", ex.Message);
    }

    [Fact]
    public async Task LoadAsync_ReportsProgressAndMetadata()
    {
        var stages = new List<ModelLoadProgress>();
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KGqa), new OnnxModelRunnerOptions { IntraOpThreads = 1 }, new SynchronousProgress<ModelLoadProgress>(stages.Add));

        Assert.Equal(1.0, stages[^1].Fraction);
        Assert.Contains(stages, s => s.Stage == "Warming up the model");
        Assert.Equal("stories260K-gqa", runner.Metadata.ModelId);
        Assert.Equal("llama", runner.Metadata.ModelType);
        Assert.Equal(512, runner.Metadata.ContextLength);
        Assert.Equal(512, runner.Metadata.VocabularySize);
        Assert.Equal(1, runner.Metadata.BosTokenId);
        Assert.Contains(2, runner.Metadata.EosTokenIds);
        Assert.Equal("cpu", runner.Metadata.ExecutionProvider);
        Assert.Equal(1, runner.Metadata.IntraOpThreads);
        Assert.Equal("GroupQueryAttention", runner.Metadata.AttentionOperator);
    }

    [Fact]
    public async Task LoadAsync_SmallModelWithoutThreadSetting_UsesOneThread()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx));

        Assert.Equal(1, runner.Metadata.IntraOpThreads);
        Assert.Contains("small model", runner.IntraOpThreadsReason);
    }

    [Fact]
    public async Task LoadAsync_ModelConfigSetsThreads_ModelConfigWins()
    {
        var folder = CopyModel(TestModels.Stories260KOnnx);
        var path = Path.Combine(folder, "genai_config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        config["model"]!["decoder"]!["session_options"]!["intra_op_num_threads"] = 3;
        await File.WriteAllTextAsync(path, config.ToJsonString());

        await using (var runner = await OnnxModelRunner.LoadAsync(folder))
        {
            Assert.Equal(3, runner.Metadata.IntraOpThreads);
            Assert.Contains("genai_config.json", runner.IntraOpThreadsReason);
        }

        await using var overridden = await OnnxModelRunner.LoadAsync(folder, new OnnxModelRunnerOptions { IntraOpThreads = 2 });
        Assert.Equal(2, overridden.Metadata.IntraOpThreads);
    }

    [Fact]
    public async Task LoadAsync_ModelConfigThreadsNotANumber_ThrowsModelLoadException()
    {
        var folder = CopyModel(TestModels.Stories260KOnnx);
        var path = Path.Combine(folder, "genai_config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        config["model"]!["decoder"]!["session_options"]!["intra_op_num_threads"] = "many";
        await File.WriteAllTextAsync(path, config.ToJsonString());

        var ex = await Assert.ThrowsAsync<ModelLoadException>(() => OnnxModelRunner.LoadAsync(folder));

        Assert.Contains("intra_op_num_threads", ex.Message);
    }

    [Fact]
    public async Task LoadAsync_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx), null, null, cts.Token));
    }

    [Fact]
    public async Task GenerateAsync_QueueFull_ThrowsRequestQueueFull()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx), new OnnxModelRunnerOptions { MaxConcurrentRequests = 1, MaxQueuedRequests = 0 });
        await using var holder = runner.GenerateAsync(new GenerationRequest("Once upon a time", new GenerationOptions { MaxNewTokens = 200 })).GetAsyncEnumerator();
        Assert.True(await holder.MoveNextAsync());
        Assert.Equal(1, runner.RunningRequests);

        await Assert.ThrowsAsync<RequestQueueFullException>(() => runner.CollectAsync(new GenerationRequest("Hello")));
    }

    [Fact]
    public async Task GenerateAsync_QueuedRequest_RunsWhenTheSlotFrees()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx), new OnnxModelRunnerOptions { MaxConcurrentRequests = 1, MaxQueuedRequests = 1 });
        var holder = runner.GenerateAsync(new GenerationRequest("Once upon a time", new GenerationOptions { MaxNewTokens = 200 })).GetAsyncEnumerator();
        Assert.True(await holder.MoveNextAsync());

        var queued = runner.CollectAsync(new GenerationRequest("Hello", new GenerationOptions { Temperature = 0, MaxNewTokens = 5 }));
        Assert.False(queued.IsCompleted);
        Assert.Equal(1, runner.QueuedRequests);
        await holder.DisposeAsync();

        Assert.Equal(5, (await queued.WaitAsync(TimeSpan.FromSeconds(30))).Tokens.Length);
    }

    [Fact]
    public async Task DisposeAsync_DuringGeneration_ReaderGetsObjectDisposedAndLaterCallsFail()
    {
        var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx));
        var enumerator = runner.GenerateAsync(new GenerationRequest("Once upon a time", new GenerationOptions { MaxNewTokens = 500, ContextOverflow = ContextOverflowPolicy.LimitNewTokens })).GetAsyncEnumerator();
        Assert.True(await enumerator.MoveNextAsync());

        var disposing = runner.DisposeAsync().AsTask();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () =>
        {
            while (await enumerator.MoveNextAsync())
            {
            }
        });
        await disposing.WaitAsync(TimeSpan.FromSeconds(30));

        await Assert.ThrowsAsync<ObjectDisposedException>(() => runner.CollectAsync(new GenerationRequest("Hello")));
    }

    [Fact]
    public async Task Dispose_FromReaderCodeOnTheGenerationWorker_DoesNotDeadlockAndTheReaderGetsObjectDisposed()
    {
        var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx));
        string? readerThread = null;

        // Without a synchronization context the reader continues on the worker that produced the token; disposing
        // synchronously there must not wait for that worker's own loop.
        var reading = Task.Run(async () =>
        {
            // Tokens the loop made ahead are read on this task's own thread; dispose at the first one read on the worker.
            // On a busy machine a whole request can be read without the reader ever waiting for the worker: then the next
            // request tries again.
            for (var attempt = 0; attempt < 20 && readerThread is null; attempt++)
            {
                await foreach (var update in runner.GenerateAsync(new GenerationRequest("Once upon a time", new GenerationOptions { MaxNewTokens = 500, ContextOverflow = ContextOverflowPolicy.LimitNewTokens })).ConfigureAwait(false))
                {
                    if (update.Index >= 2 && readerThread is null && Thread.CurrentThread.Name?.Contains(" generation ", StringComparison.Ordinal) == true)
                    {
                        readerThread = Thread.CurrentThread.Name;
                        runner.Dispose();
                    }
                }
            }
        });

        await Assert.ThrowsAsync<ObjectDisposedException>(() => reading.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(" generation ", readerThread);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => runner.CollectAsync(new GenerationRequest("Hello")));
    }

    private string CopyModel(string name)
    {
        var source = TestModels.Get(name);
        var target = Path.Combine(_scratch, name);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
