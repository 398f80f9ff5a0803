namespace Infera.Tests;

/// <summary>Loads stories260K-gqa twice: batched through the Engine, and one generator per request (the reference).</summary>
public sealed class BatchedRunnersFixture : IAsyncLifetime
{
    public OnnxModelRunner Batched { get; private set; } = null!;

    public OnnxModelRunner Sequential { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var path = TestModels.Get(TestModels.Stories260KGqa);
        Batched = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { MaxConcurrentRequests = 8, IntraOpThreads = 1 });
        Sequential = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { EnableBatching = false, IntraOpThreads = 1 });
    }

    public async Task DisposeAsync()
    {
        await Batched.DisposeAsync();
        await Sequential.DisposeAsync();
    }
}

public sealed class BatchedSchedulingTests(BatchedRunnersFixture fixture) : IClassFixture<BatchedRunnersFixture>
{
    private static readonly string[] Prompts =
    [
        "Once upon a time",
        "The cat",
        "Lily and Ben went to the park to play with a",
        "A",
        "Tom had a big red ball and he liked to play with it every day in the",
        "One day",
        "She said",
        "The little dog was very happy because",
    ];

    [Fact]
    public void SchedulingMode_GroupQueryAttentionModel_IsBatched()
    {
        Assert.Equal(SchedulingMode.Batched, fixture.Batched.SchedulingMode);
        Assert.Equal(SchedulingMode.PerRequest, fixture.Sequential.SchedulingMode);
        Assert.Contains("EnableBatching", fixture.Sequential.SchedulingModeReason, StringComparison.Ordinal);
        Assert.Equal(2, fixture.Batched.Scheduler!.EngineCount);
    }

    [Fact]
    public async Task SchedulingMode_PlainAttentionModel_IsPerRequestWithReason()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx));
        Assert.Equal(SchedulingMode.PerRequest, runner.SchedulingMode);
        Assert.Contains("GroupQueryAttention", runner.SchedulingModeReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerateAsync_EightConcurrentGreedyRequestsOfDifferentLengths_EachEqualsSequentialResult()
    {
        // Different prompt lengths and token limits; 450 new tokens let several stories end on end-of-sequence.
        var requests = Prompts.Select((p, i) => new GenerationRequest(p, new GenerationOptions { Temperature = 0, MaxNewTokens = i % 2 == 0 ? 450 : 40 + i })).ToArray();
        var expected = new List<Result>();
        foreach (var request in requests)
        {
            expected.Add(await CollectAsync(fixture.Sequential, request));
        }

        var stepsBefore = fixture.Batched.EngineSteps;
        var actual = await Task.WhenAll(requests.Select(r => Task.Run(() => CollectAsync(fixture.Batched, r))));

        for (var i = 0; i < requests.Length; i++)
        {
            Assert.Equal(expected[i].Tokens, actual[i].Tokens);
            Assert.Equal(expected[i].Text, actual[i].Text);
            Assert.Equal(expected[i].Finish, actual[i].Finish);
            Assert.Equal(expected[i].PromptTokens, actual[i].PromptTokens);
        }

        // Batched: fewer Engine steps than tokens generated (a static batch runs as long as its longest row).
        var steps = fixture.Batched.EngineSteps - stepsBefore;
        Assert.True(steps < actual.Sum(r => r.Tokens.Length), $"{steps} Engine steps for {actual.Sum(r => r.Tokens.Length)} tokens");
        Assert.Contains(expected, r => r.Finish == GenerationFinishReason.Stop);
    }

    [Fact]
    public async Task GenerateAsync_SeededSampling_EqualsSequentialResult()
    {
        var request = new GenerationRequest("Once upon a time", new GenerationOptions { Temperature = 0.8f, TopP = 0.9f, Seed = 42, MaxNewTokens = 40 });
        var expected = await CollectAsync(fixture.Sequential, request);

        var actual = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => CollectAsync(fixture.Batched, request))));

        Assert.All(actual, a => Assert.Equal(expected.Tokens, a.Tokens));
    }

    [Fact]
    public async Task GenerateAsync_UnseededSamplingBatched_CompletesWithRequestedLength()
    {
        var request = new GenerationRequest("The cat", new GenerationOptions { Temperature = 1f, TopK = 40, MaxNewTokens = 30, StopTokenIds = [] });

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => CollectAsync(fixture.Batched, request))));

        Assert.All(results, r => Assert.True(r.Tokens.Length is > 0 and <= 30));
        Assert.All(results, r => Assert.NotNull(r.Finish));
    }

    [Fact]
    public async Task Cancel_ReaderStopsMidStream_RequestClosedWithinOneEngineStep()
    {
        var scheduler = fixture.Batched.Scheduler!;
        var prompt = fixture.Batched.Tokenizer.Encode("Once upon a time");
        var job = new EngineJob(prompt, 400, new GenerationOptions { Temperature = 0 });
        scheduler.Submit(job);

        var read = 0;
        while (read < 5 && await job.Reader.WaitToReadAsync())
        {
            while (read < 5 && job.Reader.TryRead(out _))
            {
                read++;
            }
        }

        job.Cancel();

        // The channel ends with cancellation once the worker closed the request (after the tokens already produced).
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var output in job.Reader.ReadAllAsync())
            {
                Assert.True(output.HasToken);
            }
        });

        Assert.True(job.CancelRequestedAtStep >= 0);
        Assert.InRange(job.ClosedAtStep - job.CancelRequestedAtStep, 0, 1);
    }

    [Fact]
    public async Task GenerateAsync_CallerBreaksEarly_FreesItsSlotForTheNextRequest()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KGqa), new OnnxModelRunnerOptions { MaxConcurrentRequests = 1, MaxQueuedRequests = 0, IntraOpThreads = 1 });
        Assert.Equal(SchedulingMode.Batched, runner.SchedulingMode);

        await foreach (var update in runner.GenerateAsync(new GenerationRequest("Once upon a time", new GenerationOptions { Temperature = 0, MaxNewTokens = 400 })))
        {
            if (update.Index == 2)
            {
                break;
            }
        }

        // The only slot is free again at once: a second request is admitted instead of refused as queue-full.
        Assert.Equal(0, runner.RunningRequests);
        var next = await CollectAsync(runner, new GenerationRequest("The cat", new GenerationOptions { Temperature = 0, MaxNewTokens = 5 }));
        Assert.Equal(5, next.Tokens.Length);
    }

    private static async Task<Result> CollectAsync(IModelRunner runner, GenerationRequest request)
    {
        var tokens = new List<int>();
        var text = new System.Text.StringBuilder();
        GenerationFinishReason? finish = null;
        var promptTokens = 0;
        await foreach (var update in runner.GenerateAsync(request))
        {
            tokens.Add(update.TokenId);
            text.Append(update.Text);
            finish = update.FinishReason;
            promptTokens = update.PromptTokenCount;
        }

        return new Result([.. tokens], text.ToString(), finish, promptTokens);
    }

    private sealed record Result(int[] Tokens, string Text, GenerationFinishReason? Finish, int PromptTokens);
}
