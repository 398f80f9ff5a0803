namespace Infera.Tests;

/// <summary>
/// Loads stories260K-gqa four times: batched on static-batch generators (the default: 4 rows each), on one generator of
/// 8 rows, batched through GenAI's Engine, and one generator per request (the reference).
/// </summary>
public sealed class BatchedRunnersFixture : IAsyncLifetime
{
    public OnnxModelRunner Default { get; private set; } = null!;

    /// <summary>Gets the runner whose one worker holds 8 rows: the scheduler-level tests queue jobs for its single worker.</summary>
    public OnnxModelRunner Batched { get; private set; } = null!;

    public OnnxModelRunner EngineBatched { get; private set; } = null!;

    public OnnxModelRunner Sequential { get; private set; } = null!;

    public OnnxModelRunner Get(string batching) => batching switch
    {
        "engine" => EngineBatched,
        "generator8" => Batched,
        _ => Default,
    };

    public async Task InitializeAsync()
    {
        var path = TestModels.Get(TestModels.Stories260KGqa);
        Default = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { MaxConcurrentRequests = 8, IntraOpThreads = 1 });
        Batched = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { MaxConcurrentRequests = 8, IntraOpThreads = 1, BatchRows = 8 });
        EngineBatched = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { MaxConcurrentRequests = 8, IntraOpThreads = 1, Batching = BatchingKind.Engine });
        Sequential = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { EnableBatching = false, IntraOpThreads = 1 });
    }

    public async Task DisposeAsync()
    {
        await Default.DisposeAsync();
        await Batched.DisposeAsync();
        await EngineBatched.DisposeAsync();
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

    private static readonly GenerationOptions Greedy = new() { Temperature = 0 };

    [Fact]
    public void SchedulingMode_GroupQueryAttentionModel_IsBatchedOnGenerators()
    {
        Assert.Equal(SchedulingMode.Batched, fixture.Batched.SchedulingMode);
        Assert.Equal(SchedulingMode.PerRequest, fixture.Sequential.SchedulingMode);
        Assert.Contains("EnableBatching", fixture.Sequential.SchedulingModeReason, StringComparison.Ordinal);

        // 8 requests at once: two generators of 4 rows by default, or one of 8; GenAI's CPU Engine holds 4 rows, so two Engines.
        Assert.Equal(BatchingKind.Generator, fixture.Default.Batching);
        Assert.Equal(2, fixture.Default.Scheduler!.WorkerCount);
        Assert.Equal(4, fixture.Default.Scheduler!.BatchCapacity);
        Assert.Contains("2 static-batch generator(s) of up to 4 rows", fixture.Default.SchedulingModeReason, StringComparison.Ordinal);

        // A small model at one thread per operator: as many generators step at once as there are processors, and a
        // lone request moves into a batch beyond that.
        Assert.Equal(Environment.ProcessorCount, fixture.Default.Scheduler!.ParallelGenerators);
        Assert.Equal(1, fixture.Batched.Scheduler!.WorkerCount);
        Assert.Equal(8, fixture.Batched.Scheduler!.BatchCapacity);
        Assert.Equal(BatchingKind.Engine, fixture.EngineBatched.Batching);
        Assert.Equal(2, fixture.EngineBatched.Scheduler!.WorkerCount);
        Assert.Contains("Engine", fixture.EngineBatched.SchedulingModeReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SchedulingMode_PlainAttentionModel_IsPerRequestWithReason()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx));
        Assert.Equal(SchedulingMode.PerRequest, runner.SchedulingMode);
        Assert.Contains("GroupQueryAttention", runner.SchedulingModeReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("generator")]
    [InlineData("generator8")]
    [InlineData("engine")]
    public async Task GenerateAsync_EightConcurrentGreedyRequestsOfDifferentLengths_EachEqualsSequentialResult(string batching)
    {
        var batched = fixture.Get(batching);
        // Different prompt lengths and token limits; 450 new tokens let several stories end on end-of-sequence.
        var requests = Prompts.Select((p, i) => new GenerationRequest(p, new GenerationOptions { Temperature = 0, MaxNewTokens = i % 2 == 0 ? 450 : 40 + i })).ToArray();
        var expected = new List<Result>();
        foreach (var request in requests)
        {
            expected.Add(await CollectAsync(fixture.Sequential, request));
        }

        var stepsBefore = batched.EngineSteps;
        var actual = await Task.WhenAll(requests.Select(r => Task.Run(() => CollectAsync(batched, r))));

        for (var i = 0; i < requests.Length; i++)
        {
            Assert.Equal(expected[i].Tokens, actual[i].Tokens);
            Assert.Equal(expected[i].Text, actual[i].Text);
            Assert.Equal(expected[i].Finish, actual[i].Finish);
            Assert.Equal(expected[i].PromptTokens, actual[i].PromptTokens);
        }

        // Batched: fewer steps than tokens generated (a static batch runs as long as its longest row).
        var steps = batched.EngineSteps - stepsBefore;
        Assert.True(steps < actual.Sum(r => r.Tokens.Length), $"{steps} batch steps for {actual.Sum(r => r.Tokens.Length)} tokens");
        Assert.Contains(expected, r => r.Finish == GenerationFinishReason.Stop);
    }

    [Theory]
    [InlineData("generator")]
    [InlineData("engine")]
    public async Task GenerateAsync_SeededSampling_EqualsSequentialResult(string batching)
    {
        var request = new GenerationRequest("Once upon a time", new GenerationOptions { Temperature = 0.8f, TopP = 0.9f, Seed = 42, MaxNewTokens = 40 });
        var expected = await CollectAsync(fixture.Sequential, request);

        var actual = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => CollectAsync(fixture.Get(batching), request))));

        Assert.All(actual, a => Assert.Equal(expected.Tokens, a.Tokens));
    }

    [Theory]
    [InlineData("generator")]
    [InlineData("engine")]
    public async Task GenerateAsync_UnseededSamplingBatched_CompletesWithRequestedLength(string batching)
    {
        var request = new GenerationRequest("The cat", new GenerationOptions { Temperature = 1f, TopK = 40, MaxNewTokens = 30, StopTokenIds = [] });

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => CollectAsync(fixture.Get(batching), request))));

        Assert.All(results, r => Assert.True(r.Tokens.Length is > 0 and <= 30));
        Assert.All(results, r => Assert.NotNull(r.Finish));
    }

    [Theory]
    [InlineData("generator")]
    [InlineData("engine")]
    public async Task Cancel_ReaderStopsMidStream_RequestClosedWithinOneStep(string batching)
    {
        var scheduler = fixture.Get(batching).Scheduler!;
        var prompt = fixture.Batched.Tokenizer.Encode("Once upon a time");
        var job = new BatchJob(prompt, 400, new GenerationOptions { Temperature = 0 });
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

    [Theory]
    [InlineData(BatchingKind.Generator)]
    [InlineData(BatchingKind.Engine)]
    internal async Task GenerateAsync_CallerBreaksEarly_FreesItsSlotForTheNextRequest(BatchingKind batching)
    {
        // No prefix cache: a lone request would otherwise run on a kept generator rather than in a batch.
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KGqa), new OnnxModelRunnerOptions { MaxConcurrentRequests = 1, MaxQueuedRequests = 0, IntraOpThreads = 1, PrefixCacheBytes = 0, Batching = batching });
        Assert.Equal(SchedulingMode.Batched, runner.SchedulingMode);
        var stepsBefore = runner.EngineSteps;

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
        Assert.True(runner.EngineSteps > stepsBefore);
    }

    [Theory]
    [InlineData(BatchingKind.Generator, 3)] // the batch has room: its worker asks the lone request in
    [InlineData(BatchingKind.Generator, 6)] // the first batch is full and more are coming: the lone request is asked ahead for the next
    [InlineData(BatchingKind.Engine, 3)]
    internal async Task GenerateAsync_LoneRequestWhenABurstFillsTheWorkers_MovesIntoTheBatchAndEqualsSequential(BatchingKind batching, int burstSize)
    {
        // A runner of its own whose generators may not share processors: any batch beside the lone request asks it in.
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KGqa), new OnnxModelRunnerOptions { MaxConcurrentRequests = 8, IntraOpThreads = 1, Batching = batching });
        runner.Scheduler!.ParallelGenerators = 1;
        var loneRequest = new GenerationRequest("Lily and Ben went to the park to play with a", new GenerationOptions { Temperature = 0, MaxNewTokens = 450 });
        var others = Prompts.Where(p => !p.StartsWith("Lily", StringComparison.Ordinal)).Take(burstSize).Select(p => new GenerationRequest(p, new GenerationOptions { Temperature = 0, MaxNewTokens = 40 })).ToArray();
        var expectedLone = await CollectAsync(fixture.Sequential, loneRequest);
        Assert.True(expectedLone.Tokens.Length > 150, $"the lone story is {expectedLone.Tokens.Length} tokens: too short for the burst to find it running");
        var expectedOthers = new List<Result>();
        foreach (var request in others)
        {
            expectedOthers.Add(await CollectAsync(fixture.Sequential, request));
        }

        // The lone request starts on an idle runner (a generator of its own); once it streams, a burst arrives. On a busy
        // machine the burst's threads may start only after the lone request ended, or its loop may not run within the
        // batch window: the scenario is tried again then (every try's texts must still equal the sequential ones).
        for (var attempt = 1; runner.Scheduler.MovedRequests == 0; attempt++)
        {
            Assert.True(attempt <= 10, "the lone request never moved into a batch in 10 tries");
            var tokens = new List<int>();
            var text = new System.Text.StringBuilder();
            var indices = new List<int>();
            GenerationFinishReason? finish = null;
            Task<Result[]>? burst = null;
            await foreach (var update in runner.GenerateAsync(loneRequest))
            {
                burst ??= Task.WhenAll(others.Select(r => Task.Run(() => CollectAsync(runner, r))));
                tokens.Add(update.TokenId);
                text.Append(update.Text);
                indices.Add(update.Index);
                finish = update.FinishReason;
            }

            var burstResults = await burst!;
            Assert.InRange(runner.Scheduler.MovedRequests, 0, 1);
            Assert.Equal(expectedLone.Tokens, tokens);
            Assert.Equal(expectedLone.Text, text.ToString());
            Assert.Equal(expectedLone.Finish, finish);
            Assert.Equal(Enumerable.Range(0, tokens.Count), indices);
            for (var i = 0; i < others.Length; i++)
            {
                Assert.Equal(expectedOthers[i].Tokens, burstResults[i].Tokens);
                Assert.Equal(expectedOthers[i].Text, burstResults[i].Text);
            }
        }
    }

    [Theory]
    [InlineData(BatchingKind.Generator)]
    [InlineData(BatchingKind.Engine)]
    internal async Task GenerateAsync_WavesOfRequestsWithCancellationsWhileLoneRequestsMove_EveryCompletedTextEqualsSequentialAndNothingHangs(BatchingKind batching)
    {
        var random = new Random(1234);
        var requests = Enumerable.Range(0, 6).Select(_ => Prompts.Select((p, i) => new GenerationRequest(p, new GenerationOptions { Temperature = 0, MaxNewTokens = random.Next(20, 300) })).OrderBy(_ => random.Next()).ToArray()).ToArray();
        var expected = new Dictionary<GenerationRequest, Result>();
        foreach (var request in requests.SelectMany(w => w))
        {
            expected[request] = await CollectAsync(fixture.Sequential, request);
        }

        // How many lone requests move depends on the machine's timing (GenerateAsync_LoneRequestWhenABurstFillsTheWorkers
        // makes sure one does); whatever moves, every text must be the sequential one and every request must end. Each
        // wave has a runner of its own, whose generators may not share processors: the wave's first request finds it
        // idle (not just after a wave's requests ended, when more are expected and it would take the batch path).
        var moved = 0L;
        foreach (var wave in requests)
        {
            await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KGqa), new OnnxModelRunnerOptions { MaxConcurrentRequests = 8, IntraOpThreads = 1, Batching = batching });
            runner.Scheduler!.ParallelGenerators = 1;

            // The wave's first request starts alone; the others arrive once it streams. Some readers stop early.
            var stopAfter = wave.Select(_ => random.Next(4) == 0 ? random.Next(1, 40) : int.MaxValue).ToArray();
            var others = new TaskCompletionSource<Task<List<int>[]>>(TaskCreationOptions.RunContinuationsAsynchronously);
            Task<List<int>[]> StartOthers() => Task.WhenAll(wave.Skip(1).Select((r, i) => Task.Run(() => ReadTokensAsync(runner, r, stopAfter[i + 1]))));
            var lone = Task.Run(async () =>
            {
                var tokens = new List<int>();
                await foreach (var update in runner.GenerateAsync(wave[0]))
                {
                    if (tokens.Count == 0)
                    {
                        others.SetResult(StartOthers());
                    }

                    tokens.Add(update.TokenId);
                    if (tokens.Count >= stopAfter[0])
                    {
                        break;
                    }
                }

                return tokens;
            });
            var all = new[] { await lone.WaitAsync(TimeSpan.FromMinutes(2)) }.Concat(await (await others.Task).WaitAsync(TimeSpan.FromMinutes(2))).ToArray();
            for (var i = 0; i < wave.Length; i++)
            {
                var want = expected[wave[i]].Tokens;
                Assert.Equal(want.Take(all[i].Count), all[i]);
                if (stopAfter[i] == int.MaxValue)
                {
                    Assert.Equal(want, all[i]);
                }
            }

            Assert.Equal(0, runner.RunningRequests);
            moved += runner.Scheduler.MovedRequests;
        }

        Assert.True(moved > 0, "no wave's first request moved into a batch");
    }

    private static async Task<List<int>> ReadTokensAsync(IModelRunner runner, GenerationRequest request, int stopAfter)
    {
        var tokens = new List<int>();
        await foreach (var update in runner.GenerateAsync(request))
        {
            tokens.Add(update.TokenId);
            if (tokens.Count >= stopAfter)
            {
                break;
            }
        }

        return tokens;
    }

    [Fact]
    public async Task GenerateAsync_LoneRequestWithProcessorsToSpare_StaysOnItsGenerator()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KGqa), new OnnxModelRunnerOptions { MaxConcurrentRequests = 8, IntraOpThreads = 1 });
        runner.Scheduler!.ParallelGenerators = 8;
        var loneRequest = new GenerationRequest("Lily and Ben went to the park to play with a", new GenerationOptions { Temperature = 0, MaxNewTokens = 450 });
        var expected = await CollectAsync(fixture.Sequential, loneRequest);

        var tokens = new List<int>();
        Task<Result[]>? burst = null;
        await foreach (var update in runner.GenerateAsync(loneRequest))
        {
            burst ??= Task.WhenAll(Prompts.Take(3).Select(p => Task.Run(() => CollectAsync(runner, new GenerationRequest(p, new GenerationOptions { Temperature = 0, MaxNewTokens = 40 })))));
            tokens.Add(update.TokenId);
        }

        await burst!;
        Assert.Equal(0, runner.Scheduler.MovedRequests);
        Assert.Equal(expected.Tokens, tokens);
    }

    [Fact]
    public async Task Generator_MixedTokenLimitsInOneBatch_EachRowEndsAtItsOwnLimitWithTheSequentialTokens()
    {
        var prompts = new[] { "Once upon a time", "The cat", "Lily and Ben went to the park to play with a" };
        var limits = new[] { 5, 17, 30 };
        var jobs = prompts.Select((p, i) => Job(p, limits[i])).ToArray();

        var outputs = await RunTogetherAsync(jobs);

        AssertOneBatch(outputs);
        for (var i = 0; i < jobs.Length; i++)
        {
            var expected = await CollectAsync(fixture.Sequential, new GenerationRequest(prompts[i], new GenerationOptions { Temperature = 0, MaxNewTokens = limits[i] }));
            Assert.Equal(limits[i], outputs[i].Count);
            Assert.Equal(expected.Tokens, outputs[i].Select(o => o.TokenId));
            Assert.True(outputs[i][^1].IsFinished);
            Assert.All(outputs[i].SkipLast(1), o => Assert.False(o.IsFinished));
        }
    }

    [Fact]
    public async Task Generator_EndOfSequenceInOneRow_OtherRowsContinueWithTheSequentialTokens()
    {
        // Find, among the prompts, a story that ends on end-of-sequence and one that runs longer.
        var sequential = new List<Result>();
        foreach (var prompt in Prompts)
        {
            sequential.Add(await CollectAsync(fixture.Sequential, new GenerationRequest(prompt, new GenerationOptions { Temperature = 0, MaxNewTokens = 450 })));
        }

        var ending = sequential.Select((r, i) => (r, i)).Where(x => x.r.Finish == GenerationFinishReason.Stop).MinBy(x => x.r.Tokens.Length);
        Assert.NotNull(ending.r);
        var longer = sequential.Select((r, i) => (r, i)).First(x => x.r.Tokens.Length > ending.r.Tokens.Length + 10);
        var eos = fixture.Batched.Metadata.EosTokenIds;

        var outputs = await RunTogetherAsync(Job(Prompts[ending.i], 450), Job(Prompts[longer.i], 450));

        AssertOneBatch(outputs);
        Assert.Equal(ending.r.Tokens, outputs[0].Select(o => o.TokenId));
        Assert.Contains(outputs[0][^1].TokenId, eos);
        Assert.Equal(NativeMethods.FinishReasonEos, outputs[0][^1].FinishReason);
        Assert.Equal(longer.r.Tokens, outputs[1].Select(o => o.TokenId));
        Assert.True(outputs[1][^1].Step > outputs[0][^1].Step + 10);
    }

    [Fact]
    public async Task Generator_OneRowCancelledMidBatch_EndsWithinOneStepAndTheOthersEqualSequential()
    {
        var prompts = new[] { "Once upon a time", "The cat", "One day" };
        var jobs = prompts.Select(p => Job(p, 400)).ToArray();
        var cancelled = jobs[1];

        await StartTogetherAsync(jobs);
        var others = new[] { jobs[0], jobs[2] }.Select(j => Task.Run(() => ReadAllAsync(j))).ToArray();
        var read = new List<BatchOutput>();
        while (read.Count < 3 && await cancelled.Reader.WaitToReadAsync())
        {
            while (read.Count < 3 && cancelled.Reader.TryRead(out var output))
            {
                read.Add(output);
            }
        }

        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadAllAsync(cancelled));
        var outputs = await Task.WhenAll(others);

        Assert.True(cancelled.CancelRequestedAtStep >= 0);
        Assert.InRange(cancelled.ClosedAtStep - cancelled.CancelRequestedAtStep, 0, 1);
        Assert.Equal(read[0].Step, outputs[0][0].Step);
        for (var i = 0; i < 2; i++)
        {
            var expected = await CollectAsync(fixture.Sequential, new GenerationRequest(prompts[i * 2], new GenerationOptions { Temperature = 0, MaxNewTokens = 400 }));
            Assert.Equal(expected.Tokens, outputs[i].Select(o => o.TokenId));
        }
    }

    [Fact]
    public async Task Generator_PromptHoldingThePadToken_RunsWithoutPaddingAndEqualsSequential()
    {
        var pad = fixture.Batched.Metadata.PadTokenId!.Value;
        var tokenizer = fixture.Batched.Tokenizer;
        var withPad = tokenizer.Encode("Once upon a time").Concat([pad]).Concat(tokenizer.Encode("there was", addSpecialTokens: false)).ToArray();
        var shorter = tokenizer.Encode("The cat");
        var plain = tokenizer.Encode("Lily and Ben went to the park");

        var outputs = await RunTogetherAsync(new BatchJob(withPad, 20, Greedy), new BatchJob(shorter, 20, Greedy), new BatchJob(plain, 20, Greedy));

        // The two prompts without the pad token share a batch; the one holding it runs alone, with nothing padded.
        Assert.Equal(outputs[1][0].Step, outputs[2][0].Step);
        Assert.NotEqual(outputs[0][0].Step, outputs[1][0].Step);
        var expected = await CollectAsync(fixture.Sequential, new GenerationRequest(withPad, new GenerationOptions { Temperature = 0, MaxNewTokens = 20 }));
        Assert.Equal(expected.Tokens, outputs[0].Select(o => o.TokenId));
        var expectedShorter = await CollectAsync(fixture.Sequential, new GenerationRequest(shorter, new GenerationOptions { Temperature = 0, MaxNewTokens = 20 }));
        Assert.Equal(expectedShorter.Tokens, outputs[1].Select(o => o.TokenId));
    }

    [Fact]
    public async Task Generator_MixedOptions_OnlyRequestsWithTheSameSearchShareABatch()
    {
        var sampled = new GenerationOptions { Temperature = 0.9f, TopK = 40 };
        var jobs = new[]
        {
            Job("Once upon a time", 25),
            new BatchJob(fixture.Batched.Tokenizer.Encode("The cat"), 25, sampled),
            Job("One day", 25),
            new BatchJob(fixture.Batched.Tokenizer.Encode("She said"), 25, new GenerationOptions { Temperature = 0.9f, TopK = 40 }),
            new BatchJob(fixture.Batched.Tokenizer.Encode("A"), 25, new GenerationOptions { Temperature = 0.5f, TopK = 40 }),
        };

        var outputs = await RunTogetherAsync(jobs);

        // Greedy rows together, the two requests sampling alike together, the different temperature on its own.
        Assert.Equal(outputs[0][0].Step, outputs[2][0].Step);
        Assert.Equal(outputs[1][0].Step, outputs[3][0].Step);
        Assert.Equal(3, outputs.Select(o => o[0].Step).Distinct().Count());
        Assert.All(outputs, o => Assert.Equal(25, o.Count));
        foreach (var (prompt, i) in new[] { ("Once upon a time", 0), ("One day", 2) })
        {
            var expected = await CollectAsync(fixture.Sequential, new GenerationRequest(prompt, new GenerationOptions { Temperature = 0, MaxNewTokens = 25 }));
            Assert.Equal(expected.Tokens, outputs[i].Select(o => o.TokenId));
        }
    }

    [Fact]
    public void Group_SplitsBySearchPadTokenAndContext()
    {
        BatchJob Make(int length, int maxNew, GenerationOptions options, int first = 1) =>
            new([first, .. Enumerable.Repeat(5, length - 1)], maxNew, options);
        var sampled = new GenerationOptions { Temperature = 0.7f };
        var jobs = new[]
        {
            Make(10, 100, Greedy),
            Make(3, 100, sampled),
            Make(200, 100, Greedy),
            Make(4, 100, Greedy, first: 0),
            Make(5, 400, Greedy), // 200 + 400 > 512 with the first greedy batch: a batch of its own
            Make(12, 501, Greedy), // 12 + 501 > 512 with either greedy batch
        };

        var batches = GeneratorBatchWorker.Group(jobs, rows: 8, padTokenId: 0, contextLength: 512);

        Assert.Equal(5, batches.Count);
        Assert.Equal([jobs[0], jobs[2]], batches[0]);
        Assert.Equal([jobs[1]], batches[1]);
        Assert.Equal([jobs[3]], batches[2]);
        Assert.Equal([jobs[4]], batches[3]);
        Assert.Equal([jobs[5]], batches[4]);
        Assert.Equal(3, GeneratorBatchWorker.Group([.. Enumerable.Range(0, 5).Select(_ => Make(3, 10, Greedy))], rows: 2, padTokenId: 0, contextLength: 512).Count);
    }

    [Fact]
    public async Task DisposeAsync_DuringBatchedGeneration_ReadersGetObjectDisposedWithoutHanging()
    {
        var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KGqa), new OnnxModelRunnerOptions { MaxConcurrentRequests = 8, IntraOpThreads = 1, PrefixCacheBytes = 0 });
        var enumerators = Prompts.Select(p => runner.GenerateAsync(new GenerationRequest(p, new GenerationOptions { Temperature = 0, MaxNewTokens = 450 })).GetAsyncEnumerator()).ToArray();
        Assert.All(await Task.WhenAll(enumerators.Select(e => e.MoveNextAsync().AsTask())), Assert.True);

        var disposing = runner.DisposeAsync().AsTask();

        // A row that had finished before disposal ends normally; the others end with ObjectDisposedException.
        var disposed = 0;
        foreach (var enumerator in enumerators)
        {
            try
            {
                while (await enumerator.MoveNextAsync())
                {
                }
            }
            catch (ObjectDisposedException)
            {
                disposed++;
            }
        }

        await disposing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(disposed > 0);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => CollectAsync(runner, new GenerationRequest("Hello")));
    }

    private BatchJob Job(string prompt, int maxNewTokens) => new(fixture.Batched.Tokenizer.Encode(prompt), maxNewTokens, Greedy);

    private static void AssertOneBatch(IReadOnlyList<List<BatchOutput>> outputs) =>
        Assert.Single(outputs.Select(o => o[0].Step).Distinct());

    /// <summary>
    /// Queues jobs so that the generator scheduler's only worker takes them as one batch: a blocker job keeps the worker
    /// busy while they are queued; cancelling the blocker ends its batch, and the idle worker takes every queued job at once.
    /// </summary>
    private async Task StartTogetherAsync(params BatchJob[] jobs)
    {
        var scheduler = fixture.Batched.Scheduler!;
        Assert.Equal(1, scheduler.WorkerCount);
        var blocker = Job("Once upon a time", 400);
        scheduler.Submit(blocker);
        Assert.True(await blocker.Reader.WaitToReadAsync());
        foreach (var job in jobs)
        {
            scheduler.Submit(job);
        }

        blocker.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadAllAsync(blocker));
    }

    private async Task<List<BatchOutput>[]> RunTogetherAsync(params BatchJob[] jobs)
    {
        await StartTogetherAsync(jobs);
        return await Task.WhenAll(jobs.Select(j => Task.Run(() => ReadAllAsync(j))));
    }

    private static async Task<List<BatchOutput>> ReadAllAsync(BatchJob job)
    {
        var list = new List<BatchOutput>();
        await foreach (var output in job.Reader.ReadAllAsync())
        {
            list.Add(output);
        }

        return list;
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
