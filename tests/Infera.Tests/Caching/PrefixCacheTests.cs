using Microsoft.Extensions.AI;

namespace Infera.Tests;

/// <summary>
/// The runner's prefix cache: greedy output with it equals output without it on every shared model and path, it
/// reports the prompt tokens it saved, never shares state that must not be shared, and stays within its budget.
/// </summary>
public sealed class PrefixCacheTests
{
    public static TheoryData<string, bool> ModelsAndBatching => new()
    {
        { TestModels.Stories260KOnnx, false },
        { TestModels.Stories260KGqa, true },
        { TestModels.Stories260KGqa, false },
        { TestModels.TinyRandomGpt2, false },
        { TestModels.TinyRandomLlamaFp16, false },
    };

    [Theory]
    [MemberData(nameof(ModelsAndBatching))]
    public async Task GenerateAsync_ConversationAndSharedSystemPrompt_SameTokensAsWithoutCacheAndCountsCachedTokens(string model, bool batching)
    {
        var path = TestModels.Get(model);
        await using var reference = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { PrefixCacheBytes = 0, EnableBatching = false, IntraOpThreads = 1 });
        await using var cached = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { EnableBatching = batching, IntraOpThreads = 1 });
        Assert.NotNull(cached.PrefixCache);
        Assert.Null(reference.PrefixCache);
        var random = new Random(7);
        var vocabulary = Math.Min(cached.Metadata.VocabularySize, 1000);
        int[] Tokens(int count) => [.. Enumerable.Range(0, count).Select(_ => random.Next(3, vocabulary))];

        var system = Tokens(40);
        var prompt = system.Concat(Tokens(8)).ToArray();
        for (var turn = 0; turn < 4; turn++)
        {
            foreach (var logProbabilities in new[] { false, true })
            {
                // Both sampling paths: GenAI's greedy search, and Infera's sampler (log-probabilities) over the same generator.
                var options = new GenerationOptions { Temperature = 0, MaxNewTokens = 10, LogProbabilities = logProbabilities };
                var expected = await reference.CollectWithCacheAsync(new GenerationRequest(prompt, options));
                var actual = await cached.CollectWithCacheAsync(new GenerationRequest(prompt, options));
                Assert.Equal(expected.Tokens, actual.Tokens);
                Assert.Equal(0, expected.CachedTokens);
                if (turn > 0 || logProbabilities)
                {
                    Assert.InRange(actual.CachedTokens, system.Length, prompt.Length - 1);
                }

                if (!logProbabilities)
                {
                    // The next turn resends the history: prompt, reply, a new message.
                    prompt = [.. prompt, .. actual.Tokens, .. Tokens(6)];
                }
            }
        }

        // A different question after the same system prompt continues from the system prompt only.
        var question = system.Concat(Tokens(9)).ToArray();
        var greedy = new GenerationOptions { Temperature = 0, MaxNewTokens = 10 };
        var other = await cached.CollectWithCacheAsync(new GenerationRequest(question, greedy));
        Assert.Equal((await reference.CollectWithCacheAsync(new GenerationRequest(question, greedy))).Tokens, other.Tokens);
        Assert.Equal(system.Length, other.CachedTokens);

        // The same prompt again: all but its last token come from the cache.
        var again = await cached.CollectWithCacheAsync(new GenerationRequest(question, greedy));
        Assert.Equal(other.Tokens, again.Tokens);
        Assert.Equal(question.Length - 1, again.CachedTokens);
        Assert.True(cached.PrefixCache!.Hits >= 8);
    }

    [Fact]
    public async Task GenerateAsync_WhileAnotherRequestRuns_KeptPrefixIsContinuedOnlyWhenLongComparedToTheNewTokens()
    {
        var path = TestModels.Get(TestModels.Stories260KGqa);
        await using var runner = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { EnableBatching = true, IntraOpThreads = 1 });
        var random = new Random(11);
        int[] Tokens(int count) => [.. Enumerable.Range(0, count).Select(_ => random.Next(3, runner.Metadata.VocabularySize))];
        int[] a = Tokens(48), b = Tokens(48);

        // Two requests on generators of their own (log-probabilities take Infera's sampler; the end-of-sequence tokens are
        // banned), both held open after their first token so that neither continues the other's generator. More tokens
        // than the runner's channel holds keep each generator busy until its reader drains it; both are kept afterwards.
        var noEos = runner.Metadata.EosTokenIds.ToDictionary(id => id, _ => -100f);
        var held = new GenerationOptions { Temperature = 0, MaxNewTokens = 100, LogProbabilities = true, LogitBias = noEos };
        await using (var first = runner.GenerateAsync(new GenerationRequest(a, held)).GetAsyncEnumerator())
        await using (var second = runner.GenerateAsync(new GenerationRequest(b, held)).GetAsyncEnumerator())
        {
            Assert.True(await first.MoveNextAsync());
            Assert.True(await second.MoveNextAsync());
            while (await first.MoveNextAsync())
            {
            }

            while (await second.MoveNextAsync())
            {
            }
        }

        // A long request in flight, held after its first token (it may take one of the kept generators: it shares nothing).
        var endless = new GenerationOptions { Temperature = 0, MaxNewTokens = 300, LogProbabilities = true, LogitBias = noEos };
        await using var busy = runner.GenerateAsync(new GenerationRequest(Tokens(8), endless)).GetAsyncEnumerator();
        Assert.True(await busy.MoveNextAsync());

        // 47 kept tokens against 40 new ones: a batch row is cheaper than continuing alone.
        var greedy40 = new GenerationOptions { Temperature = 0, MaxNewTokens = 40 };
        Assert.Equal(0, (await runner.CollectWithCacheAsync(new GenerationRequest(a, greedy40))).CachedTokens);
        Assert.Equal(0, (await runner.CollectWithCacheAsync(new GenerationRequest(b, greedy40))).CachedTokens);

        // 47 kept tokens against 8 new ones (at least PrefixToNewTokensForGenerator times): the kept one is continued.
        var greedy8 = new GenerationOptions { Temperature = 0, MaxNewTokens = 8 };
        var cached = new[] { (await runner.CollectWithCacheAsync(new GenerationRequest(a, greedy8))).CachedTokens, (await runner.CollectWithCacheAsync(new GenerationRequest(b, greedy8))).CachedTokens };
        Assert.Contains(47, cached);
        Assert.True(47 >= PrefixCacheFactory.PrefixToNewTokensForGenerator * 8 && 47 < PrefixCacheFactory.PrefixToNewTokensForGenerator * 40);
    }

    [Theory]
    [InlineData(TestModels.Stories260KGqa)]
    [InlineData(TestModels.Stories260KOnnx)]
    public async Task GenerateAsync_ConcurrentRequestsWithSamePrefix_EachEqualsReference(string model)
    {
        var path = TestModels.Get(model);
        await using var reference = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { PrefixCacheBytes = 0, EnableBatching = false, IntraOpThreads = 1 });
        await using var cached = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { MaxConcurrentRequests = 6, IntraOpThreads = 1 });
        var system = "Once upon a time, there was a little girl named Lily. She liked to play outside with her dog. One day";
        var prompts = new[] { " she saw", " the dog ran", " it rained", " Lily", " they went to the park", " a bird sang" }.Select(s => system + s).ToArray();
        var options = new GenerationOptions { Temperature = 0, MaxNewTokens = 24 };
        await cached.CollectWithCacheAsync(new GenerationRequest(system, options));

        for (var round = 0; round < 2; round++)
        {
            var actual = await Task.WhenAll(prompts.Select(p => Task.Run(() => cached.CollectWithCacheAsync(new GenerationRequest(p, options)))));
            for (var i = 0; i < prompts.Length; i++)
            {
                Assert.Equal((await reference.CollectWithCacheAsync(new GenerationRequest(prompts[i], options))).Tokens, actual[i].Tokens);
            }
        }

        // Whether the concurrent requests above continued the kept prefix depends on how they overlapped (a batch row is
        // cheaper than continuing a prefix shorter than PrefixToNewTokensForGenerator times the new tokens). A request whose
        // kept prefix is that long continues it whatever else runs, and gives the reference's tokens.
        var few = new GenerationOptions { Temperature = 0, MaxNewTokens = 4 };
        var continued = await cached.CollectWithCacheAsync(new GenerationRequest(prompts[0], few));
        Assert.True(continued.CachedTokens >= PrefixCacheFactory.PrefixToNewTokensForGenerator * 4, $"{continued.CachedTokens} tokens continued");
        Assert.Equal((await reference.CollectWithCacheAsync(new GenerationRequest(prompts[0], few))).Tokens, continued.Tokens);
        Assert.True(cached.PrefixCache!.Hits > 0);
    }

    [Theory]
    [InlineData(4, 0)]
    [InlineData(4, 4)]
    [InlineData(0, 0)]
    public async Task GenerateAsync_Int4AccuracyLevels_SameTokensAsWithoutCacheAndSplitReusesOnlyPromptEntries(int decodeLevel, int promptLevel)
    {
        var folder = Path.Combine(Path.GetTempPath(), "infera-prefix-cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            var shape = new Infera.ModelBuilder.SyntheticModelOptions { HiddenSize = 64, LayerCount = 2, HeadCount = 4, KeyValueHeadCount = 2, IntermediateSize = 172, VocabularySize = 512, ContextLength = 512, Seed = 5 };
            await Infera.ModelBuilder.SyntheticModel.CreateAsync(shape, folder, new Infera.ModelBuilder.ConversionOptions { Precision = Infera.ModelBuilder.ModelPrecision.Int4, AccuracyLevel = decodeLevel, PromptAccuracyLevel = promptLevel });
            await using var reference = await OnnxModelRunner.LoadAsync(folder, new OnnxModelRunnerOptions { PrefixCacheBytes = 0, EnableBatching = false, IntraOpThreads = 1 });
            await using var cached = await OnnxModelRunner.LoadAsync(folder, new OnnxModelRunnerOptions { EnableBatching = false, IntraOpThreads = 1 });
            var split = decodeLevel != promptLevel;
            Assert.Equal(split, cached.PrefixCache!.Layout.SplitAccuracy);

            var random = new Random(3);
            int[] Tokens(int count) => [.. Enumerable.Range(0, count).Select(_ => random.Next(3, 512))];
            var prompt = Tokens(30);
            var options = new GenerationOptions { Temperature = 0, MaxNewTokens = 12, StopTokenIds = [] };
            var one = new GenerationOptions { Temperature = 0, MaxNewTokens = 1, StopTokenIds = [] };
            for (var turn = 0; turn < 4; turn++)
            {
                var expected = await reference.CollectWithCacheAsync(new GenerationRequest(prompt, options));
                var actual = await cached.CollectWithCacheAsync(new GenerationRequest(prompt, options));
                Assert.Equal(expected.Tokens, actual.Tokens);
                var previousPrompt = prompt.Length;
                prompt = [.. prompt, .. actual.Tokens, .. Tokens(5)];
                var next = await cached.CollectWithCacheAsync(new GenerationRequest(prompt, one));
                Assert.Equal((await reference.CollectWithCacheAsync(new GenerationRequest(prompt, one))).Tokens, next.Tokens);

                // Split levels: the reply's keys and values came from single-token steps, which a request without the
                // cache computes in its prompt step instead; only the earlier prompt is reused. One level: the reply too.
                if (split)
                {
                    Assert.Equal(previousPrompt, next.CachedTokens);
                }
                else
                {
                    Assert.True(next.CachedTokens > previousPrompt, $"{next.CachedTokens} cached of {previousPrompt} + reply");
                }
            }
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData(TestModels.Stories260KOnnx)]
    [InlineData(TestModels.Stories260KGqa)]
    public async Task GenerateAsync_ShortPromptsWithoutUsefulPrefix_ContinueAKeptGeneratorWithTheSameTokens(string model)
    {
        // Creating a generator costs more than recomputing a short prompt: a request whose prompt shares only its first
        // tokens with a kept sequence continues that sequence instead of creating one.
        var path = TestModels.Get(model);
        await using var reference = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { PrefixCacheBytes = 0, EnableBatching = false, IntraOpThreads = 1 });
        await using var cached = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { IntraOpThreads = 1 });
        var greedy = new GenerationOptions { Temperature = 0, MaxNewTokens = 24 };
        string[] prompts = ["Once upon a time", "Once upon a time", "The cat sat", "Lily and Ben went to the park", "Once upon a time"];
        for (var i = 0; i < prompts.Length; i++)
        {
            var expected = await reference.CollectWithCacheAsync(new GenerationRequest(prompts[i], greedy));
            var actual = await cached.CollectWithCacheAsync(new GenerationRequest(prompts[i], greedy));
            Assert.Equal(expected.Tokens, actual.Tokens);
            if (i == 0)
            {
                Assert.Equal(0, actual.CachedTokens);
            }
            else
            {
                Assert.InRange(actual.CachedTokens, 1, actual.PromptTokens - 1);
            }
        }

        Assert.Equal(prompts.Length - 1, cached.PrefixCache!.Hits);
        Assert.Equal(1, cached.PrefixCache.Count);
    }

    [Theory]
    [InlineData(TestModels.Stories260KOnnx)]
    [InlineData(TestModels.Stories260KGqa)]
    public async Task GenerateAsync_PromptsSharingNoToken_RewindAKeptGeneratorToTheStartWithTheSameTokens(string model)
    {
        // Raw prompts without a BOS token (a Qwen model's completions) share nothing with a kept sequence: the request
        // still continues one, rewound to the start, instead of creating a generator and its key/value buffers.
        var path = TestModels.Get(model);
        await using var reference = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { PrefixCacheBytes = 0, EnableBatching = false, IntraOpThreads = 1 });
        await using var cached = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { IntraOpThreads = 1 });
        var greedy = new GenerationOptions { Temperature = 0, MaxNewTokens = 20, AddSpecialTokens = false };
        int[][] prompts = [[300, 301, 302, 303, 304, 305], [400, 90, 91, 92], [200, 210, 220, 230, 240, 250, 260, 270], [300, 301, 302, 303, 304, 305]];
        for (var i = 0; i < prompts.Length; i++)
        {
            var expected = await reference.CollectWithCacheAsync(new GenerationRequest(prompts[i], greedy));
            var actual = await cached.CollectWithCacheAsync(new GenerationRequest(prompts[i], greedy));
            Assert.Equal(expected.Tokens, actual.Tokens);
            Assert.Equal(0, actual.CachedTokens);
            Assert.Equal(1, cached.PrefixCache!.Count);
        }

        // Nothing was taken from the cache, so nothing counts as a hit; one generator served all four requests.
        Assert.Equal(0, cached.PrefixCache!.Hits);
        Assert.Equal(prompts.Length, cached.PrefixCache.Misses);
    }

    [Fact]
    public async Task GenerateAsync_ModelAppendingOneTokenAtATime_DoesNotContinueWithoutUsefulPrefix()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.TinyRandomLlamaFp16), new OnnxModelRunnerOptions { IntraOpThreads = 1 });
        Assert.True(runner.PrefixCache!.Layout.AppendOneAtATime);
        var greedy = new GenerationOptions { Temperature = 0, MaxNewTokens = 4 };
        await runner.CollectWithCacheAsync(new GenerationRequest([1, 20, 30, 40, 50], greedy));
        var other = await runner.CollectWithCacheAsync(new GenerationRequest([1, 60, 70, 80, 90], greedy));

        Assert.Equal(0, other.CachedTokens);
        Assert.Equal(0, runner.PrefixCache.Hits);
    }

    [Fact]
    public async Task GenerateAsync_ConstrainedOrNativeSampledRequest_NeverSharesState()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx), new OnnxModelRunnerOptions { SamplingMode = SamplingMode.Native, IntraOpThreads = 1 });
        const string Prompt = "Once upon a time, there was a little girl named Lily. She liked to play outside with her dog.";
        var first = await runner.CollectWithCacheAsync(new GenerationRequest(Prompt, new GenerationOptions { Temperature = 0, MaxNewTokens = 8 }));
        Assert.Equal(0, first.CachedTokens);
        Assert.Equal(1, runner.PrefixCache!.Count);

        var schema = """{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"],"x-guidance":{"whitespace_flexible":false}}""";
        var constrained = await runner.CollectWithCacheAsync(new GenerationRequest(Prompt, new GenerationOptions { MaxNewTokens = 8, Constraint = DecodingConstraint.JsonSchema(schema) }));
        var sampled = await runner.CollectWithCacheAsync(new GenerationRequest(Prompt, new GenerationOptions { Temperature = 0.9f, TopP = 0.9f, Seed = 3, MaxNewTokens = 8 }));
        Assert.Equal(0, constrained.CachedTokens);
        Assert.Equal(0, sampled.CachedTokens);

        // The greedy entry is untouched by them and still serves the next greedy request.
        Assert.Equal(1, runner.PrefixCache.Count);
        var again = await runner.CollectWithCacheAsync(new GenerationRequest(Prompt, new GenerationOptions { Temperature = 0, MaxNewTokens = 8 }));
        Assert.Equal(first.Tokens, again.Tokens);
        Assert.True(again.CachedTokens > 0);
    }

    [Fact]
    public async Task GenerateAsync_ThousandRequestsWithRandomPrefixes_StaysWithinBudgetAndEvicts()
    {
        var path = TestModels.Get(TestModels.Stories260KGqa);
        const long Budget = 6L << 20;
        await using var runner = await OnnxModelRunner.LoadAsync(path, new OnnxModelRunnerOptions { PrefixCacheBytes = Budget, IntraOpThreads = 1, EnableBatching = false, MaxConcurrentRequests = 8 });
        var cache = runner.PrefixCache!;
        var random = new Random(11);
        var prefixes = Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, random.Next(8, 60)).Select(_ => random.Next(3, 512)).ToArray()).ToArray();
        var options = new GenerationOptions { Temperature = 0, MaxNewTokens = 24 };
        for (var round = 0; round < 125; round++)
        {
            // Eight requests at a time, long enough to overlap: each holds a sequence of its own while it runs, and all
            // eight are returned to the cache, more than the budget holds. (One at a time, a request without a useful match would continue the
            // least recently used kept sequence, and the cache would hold one.)
            var requests = Enumerable.Range(0, 8).Select(_ =>
            {
                var prefix = prefixes[random.Next(prefixes.Length)];
                int[] prompt = [.. prefix, .. Enumerable.Range(0, random.Next(1, 20)).Select(_ => random.Next(3, 512))];
                return runner.CollectWithCacheAsync(new GenerationRequest(prompt, options));
            }).ToArray();
            await Task.WhenAll(requests);
            Assert.InRange(cache.Bytes, 0, Budget);
        }

        Assert.True(cache.Evictions > 0, $"the budget forced no eviction: {cache.Count} sequences, {cache.Bytes} bytes, one {cache.Layout.BytesOf(cache.Layout.CapacityFor(3), 1, 1)}, hits {cache.Hits}, misses {cache.Misses}");
        Assert.True(cache.Hits > 20, $"{cache.Hits} hits");
        Assert.True(cache.HitTokens > 0);
        Assert.InRange(cache.Count, 1, (int)(Budget / cache.Layout.BytesOf(cache.Layout.CapacityFor(3), 1, 1)));
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ConversationResendingHistory_ReportsCachedInputTokensAndSameReplies()
    {
        var path = TestModels.Get(TestModels.Stories260KOnnx);
        using var cached = await InferaChatClient.LoadAsync(path, new OnnxModelRunnerOptions { IntraOpThreads = 1 });
        using var plain = await InferaChatClient.LoadAsync(path, new OnnxModelRunnerOptions { PrefixCacheBytes = 0, IntraOpThreads = 1 });
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 16 };
        List<Microsoft.Extensions.AI.ChatMessage> withCache = [new(ChatRole.System, "You tell short stories about a girl named Lily and her dog.")];
        List<Microsoft.Extensions.AI.ChatMessage> without = [.. withCache];
        foreach (var (message, turn) in new[] { "Tell me about the park.", "What did the dog do?", "And then?" }.Select((m, i) => (m, i)))
        {
            withCache.Add(new(ChatRole.User, message));
            without.Add(new(ChatRole.User, message));
            var reply = await cached.GetResponseAsync(withCache, options);
            var expected = await plain.GetResponseAsync(without, options);
            Assert.Equal(expected.Text, reply.Text);
            Assert.Equal(expected.Usage!.InputTokenCount, reply.Usage!.InputTokenCount);
            Assert.Equal(0, expected.Usage.CachedInputTokenCount);
            if (turn > 0)
            {
                Assert.InRange(reply.Usage.CachedInputTokenCount!.Value, 10, reply.Usage.InputTokenCount!.Value - 1);
            }

            withCache.AddMessages(reply);
            without.AddMessages(expected);
        }
    }
}

internal static class PrefixCacheRunnerExtensions
{
    public static async Task<(int[] Tokens, int CachedTokens, int PromptTokens)> CollectWithCacheAsync(this IModelRunner runner, GenerationRequest request)
    {
        var tokens = new List<int>();
        var cached = -1;
        var prompt = 0;
        await foreach (var update in runner.GenerateAsync(request))
        {
            tokens.Add(update.TokenId);
            cached = update.CachedPromptTokenCount;
            prompt = update.PromptTokenCount;
        }

        return ([.. tokens], cached, prompt);
    }
}
