namespace Infera.Tests;

/// <summary>Concurrency, cancellation, disposal, limits and bad input of <see cref="OnnxModelRunner"/>.</summary>
public sealed class OnnxModelRunnerBehaviourTests(Stories260KFixture fixture) : IClassFixture<Stories260KFixture>
{
    private static readonly string[] Prompts =
    [
        "Once upon a time",
        "The cat",
        "Lily and Ben went to the park. They saw a big dog",
        "One day",
        "Tom had a red ball",
        "The sun was",
        "A little bird",
        "Sue liked to play with her friends in the garden because",
    ];

    private OnnxModelRunner Runner => fixture.Runner;

    [Fact]
    public async Task GenerateAsync_EightConcurrentRequests_EachEqualsItsSequentialResult()
    {
        var options = new GenerationOptions { Temperature = 0, MaxNewTokens = 48 };
        var sequential = new List<int[]>();
        foreach (var prompt in Prompts)
        {
            sequential.Add((await Runner.CollectAsync(new GenerationRequest(prompt, options))).Tokens);
        }

        var concurrent = await Task.WhenAll(Prompts.Select(p => Task.Run(() => Runner.CollectAsync(new GenerationRequest(p, options)))));

        for (var i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(sequential[i], concurrent[i].Tokens);
        }

        Assert.Contains(sequential, s => !s.SequenceEqual(sequential[0]));
    }

    [Fact]
    public async Task GenerateAsync_MaxNewTokens_StopsWithLengthAndCountsTokens()
    {
        var result = await Runner.CollectAsync(new GenerationRequest("Once upon a time", new GenerationOptions { Temperature = 0, MaxNewTokens = 7 }));

        Assert.Equal(7, result.Tokens.Length);
        Assert.Equal(GenerationFinishReason.Length, result.Finish);
        Assert.Equal(Runner.Tokenizer.Encode("Once upon a time").Length, result.PromptTokens);
    }

    [Fact]
    public async Task GenerateAsync_SameSeed_SameTokens_DifferentSeed_DifferentTokens()
    {
        GenerationRequest Request(long seed) => new("Once upon a time", new GenerationOptions { Temperature = 1.0f, Seed = seed, MaxNewTokens = 40 });

        var first = await Runner.CollectAsync(Request(42));
        var again = await Runner.CollectAsync(Request(42));
        var other = await Runner.CollectAsync(Request(43));

        Assert.Equal(first.Tokens, again.Tokens);
        Assert.NotEqual(first.Tokens, other.Tokens);
    }

    [Fact]
    public async Task GenerateAsync_SameSeedWithInferaSampler_SameTokens()
    {
        GenerationRequest Request(long seed) => new("Once upon a time", new GenerationOptions { Temperature = 0.9f, Seed = seed, MinP = 0.05f, MaxNewTokens = 40 });

        var first = await Runner.CollectAsync(Request(7));
        var again = await Runner.CollectAsync(Request(7));
        var other = await Runner.CollectAsync(Request(8));

        Assert.Equal(first.Tokens, again.Tokens);
        Assert.NotEqual(first.Tokens, other.Tokens);
    }

    [Fact]
    public async Task GenerateAsync_FrequencyPenalty_ReducesRepeatedTokens()
    {
        var plain = await Runner.CollectAsync(new GenerationRequest("Once upon a time", new GenerationOptions { Temperature = 0, MaxNewTokens = 120 }));
        var penalized = await Runner.CollectAsync(new GenerationRequest("Once upon a time", new GenerationOptions { Temperature = 0, MaxNewTokens = 120, FrequencyPenalty = 2f }));

        static int Repeats(int[] tokens) => tokens.Length - tokens.Distinct().Count();
        Assert.True(Repeats(penalized.Tokens) < Repeats(plain.Tokens), $"repeats with penalty {Repeats(penalized.Tokens)}, without {Repeats(plain.Tokens)}");
    }

    [Fact]
    public async Task GenerateAsync_LogProbabilities_ReportChosenTokenAndSortedAlternatives()
    {
        var updates = new List<TokenUpdate>();
        await foreach (var update in Runner.GenerateAsync(new GenerationRequest("Once upon a time", new GenerationOptions { Temperature = 0, MaxNewTokens = 8, TopLogProbabilities = 3 })))
        {
            updates.Add(update);
        }

        Assert.All(updates, u =>
        {
            var lp = Assert.IsType<TokenLogProbabilities>(u.LogProbabilities);
            Assert.True(lp.LogProbability <= 0f);
            Assert.Equal(3, lp.TopAlternatives.Count);
            Assert.Equal(u.TokenId, lp.TopAlternatives[0].TokenId);
            Assert.Equal(lp.LogProbability, lp.TopAlternatives[0].LogProbability, 4);
            Assert.True(lp.TopAlternatives[0].LogProbability >= lp.TopAlternatives[1].LogProbability);
            Assert.True(lp.TopAlternatives[1].LogProbability >= lp.TopAlternatives[2].LogProbability);
        });
    }

    [Fact]
    public async Task GenerateAsync_Cancelled_ThrowsAndFreesTheSlot()
    {
        using var cts = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in Runner.GenerateAsync(new GenerationRequest("Once upon a time", new GenerationOptions { Temperature = 0, MaxNewTokens = 400 }), cts.Token))
            {
                if (++seen == 3)
                {
                    await cts.CancelAsync();
                }
            }
        });

        Assert.InRange(seen, 3, 4);
        Assert.Equal(0, Runner.RunningRequests);
    }

    [Fact]
    public async Task GenerateAsync_ReaderBreaksEarly_FreesTheSlot()
    {
        await foreach (var _ in Runner.GenerateAsync(new GenerationRequest("Once upon a time", new GenerationOptions { MaxNewTokens = 400 })))
        {
            break;
        }

        Assert.Equal(0, Runner.RunningRequests);
    }

    [Fact]
    public async Task GenerateAsync_PromptLongerThanContext_ThrowsContextLengthExceeded()
    {
        var prompt = string.Concat(Enumerable.Repeat("Once upon a time there was a cat. ", 80));

        var ex = await Assert.ThrowsAsync<ContextLengthExceededException>(() => Runner.CollectAsync(new GenerationRequest(prompt, new GenerationOptions { MaxNewTokens = 10 })));

        Assert.Equal(512, ex.ContextLength);
        Assert.True(ex.PromptTokens > 512);
    }

    [Fact]
    public async Task GenerateAsync_TooManyNewTokens_ThrowsUnlessLimitPolicyChosen()
    {
        var options = new GenerationOptions { Temperature = 0, MaxNewTokens = 600 };
        await Assert.ThrowsAsync<ContextLengthExceededException>(() => Runner.CollectAsync(new GenerationRequest("Once upon a time", options)));

        options.ContextOverflow = ContextOverflowPolicy.LimitNewTokens;
        var prompt = Runner.Tokenizer.Encode(string.Concat(Enumerable.Repeat("Once upon a time there was a cat. ", 80)))[..505];
        var result = await Runner.CollectAsync(new GenerationRequest(prompt, options));

        Assert.Equal(7, result.Tokens.Length);
        Assert.Equal(GenerationFinishReason.Length, result.Finish);
    }

    [Fact]
    public async Task GenerateAsync_TruncatePromptStartPolicy_KeepsBosAndTheEndOfThePrompt()
    {
        var prompt = string.Concat(Enumerable.Repeat("Once upon a time there was a cat. ", 80));
        var options = new GenerationOptions { Temperature = 0, MaxNewTokens = 12, ContextOverflow = ContextOverflowPolicy.TruncatePromptStart };

        var result = await Runner.CollectAsync(new GenerationRequest(prompt, options));

        Assert.Equal(500, result.PromptTokens);
        Assert.Equal(12, result.Tokens.Length);
    }

    [Theory]
    [InlineData(nameof(GenerationOptions.Temperature))]
    [InlineData(nameof(GenerationOptions.TopP))]
    [InlineData(nameof(GenerationOptions.TopK))]
    [InlineData(nameof(GenerationOptions.MaxNewTokens))]
    [InlineData(nameof(GenerationOptions.FrequencyPenalty))]
    [InlineData(nameof(GenerationOptions.PresencePenalty))]
    [InlineData(nameof(GenerationOptions.MinP))]
    [InlineData(nameof(GenerationOptions.RepetitionPenalty))]
    [InlineData(nameof(GenerationOptions.TopLogProbabilities))]
    public async Task GenerateAsync_OutOfRangeOption_ThrowsNamingTheOption(string option)
    {
        var options = option switch
        {
            nameof(GenerationOptions.Temperature) => new GenerationOptions { Temperature = -1 },
            nameof(GenerationOptions.TopP) => new GenerationOptions { TopP = 1.5f },
            nameof(GenerationOptions.TopK) => new GenerationOptions { TopK = 0 },
            nameof(GenerationOptions.MaxNewTokens) => new GenerationOptions { MaxNewTokens = 0 },
            nameof(GenerationOptions.FrequencyPenalty) => new GenerationOptions { FrequencyPenalty = 3 },
            nameof(GenerationOptions.PresencePenalty) => new GenerationOptions { PresencePenalty = -3 },
            nameof(GenerationOptions.MinP) => new GenerationOptions { MinP = 2 },
            nameof(GenerationOptions.RepetitionPenalty) => new GenerationOptions { RepetitionPenalty = 0 },
            _ => new GenerationOptions { TopLogProbabilities = 21 },
        };

        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Runner.CollectAsync(new GenerationRequest("Hi", options)));

        Assert.Equal(option, ex.ParamName);
    }

    [Fact]
    public async Task GenerateAsync_TokenIdOutsideVocabulary_ThrowsBeforeGeneration()
    {
        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Runner.CollectAsync(new GenerationRequest([1, 5000])));
        Assert.Contains("5000", ex.Message);
    }

    [Fact]
    public async Task GenerateAsync_EmptyPrompt_ThrowsArgumentException()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Runner.CollectAsync(new GenerationRequest(Array.Empty<int>())));
    }
}
