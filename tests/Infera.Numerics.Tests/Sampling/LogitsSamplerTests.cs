namespace Infera.Numerics.Tests.Sampling;

public sealed class LogitsSamplerTests
{
    [Fact]
    public void Sample_Greedy_ArgMaxWithTiesToLowestId()
    {
        var sampler = new LogitsSampler(new SamplingParameters { Temperature = 0f }, 12);
        var logits = new float[12];
        logits[5] = 3f;
        logits[9] = 3f;

        Assert.Equal(5, sampler.Sample(logits).TokenId);
    }

    [Fact]
    public void Sample_GreedyOnLargeVocabulary_EqualsArgMax()
    {
        var sampler = new LogitsSampler(new SamplingParameters { Temperature = 0f }, 151936);
        for (ulong seed = 0; seed < 5; seed++)
        {
            var logits = TestData.PeakedLogits(151936, seed);
            var expected = KernelChecks.ReferenceArgMax(logits);

            Assert.Equal(expected, sampler.Sample(logits).TokenId);
        }
    }

    [Fact]
    public void Sample_TopKOne_AlwaysArgMax()
    {
        var sampler = new LogitsSampler(new SamplingParameters { TopK = 1, Seed = 3 }, 1000);
        for (ulong seed = 0; seed < 20; seed++)
        {
            var logits = TestData.Normal(1000, seed);
            Assert.Equal(KernelChecks.ReferenceArgMax(logits), sampler.Sample(logits).TokenId);
        }
    }

    [Theory]
    [InlineData(0f, 0, 1f, 0f)]
    [InlineData(1f, 0, 1f, 0f)]
    [InlineData(0.7f, 40, 1f, 0f)]
    [InlineData(1f, 0, 0.9f, 0f)]
    [InlineData(1f, 0, 1f, 0.05f)]
    [InlineData(0.8f, 50, 0.95f, 0.02f)]
    public void Sample_SameSeed_SameTokens(float temperature, int topK, float topP, float minP)
    {
        int[] Run(ulong seed)
        {
            var sampler = new LogitsSampler(new SamplingParameters { Temperature = temperature, TopK = topK, TopP = topP, MinP = minP, Seed = seed }, 32000);
            var tokens = new int[30];
            for (var step = 0; step < tokens.Length; step++)
            {
                tokens[step] = sampler.Sample(TestData.PeakedLogits(32000, (ulong)step)).TokenId;
                sampler.Accept(tokens[step]);
            }

            return tokens;
        }

        Assert.Equal(Run(7), Run(7));
        if (temperature > 0 && topK != 1)
        {
            Assert.NotEqual(Run(7), Run(8));
        }
    }

    [Theory]
    [InlineData(1f, 0, 1f, 0f, 1f, 0f, false, 0)]
    [InlineData(0.7f, 40, 1f, 0f, 1f, 0f, false, 0)]
    [InlineData(1f, 0, 0.9f, 0f, 1f, 0f, false, 0)]
    [InlineData(1f, 0, 1f, 0.1f, 1f, 0f, false, 0)]
    [InlineData(0f, 0, 1f, 0f, 1.3f, 0.5f, true, 0)]
    [InlineData(1f, 20, 0.8f, 0.05f, 1.1f, 0.2f, true, 0)]
    public void Sample_SteadyState_AllocatesNothing(float temperature, int topK, float topP, float minP, float repetition, float frequency, bool logProbabilities, int topLogProbabilities)
    {
        const int vocabulary = 32000;
        var source = TestData.PeakedLogits(vocabulary, 1);
        var logits = new float[vocabulary];
        LogitsSampler Create()
        {
            var created = new LogitsSampler(
                new SamplingParameters
                {
                    Temperature = temperature, TopK = topK, TopP = topP, MinP = minP, RepetitionPenalty = repetition,
                    FrequencyPenalty = frequency, PresencePenalty = frequency, LogProbabilities = logProbabilities,
                    TopLogProbabilities = topLogProbabilities, LogitBias = new Dictionary<int, float> { [3] = 5f },
                },
                vocabulary);
            created.AddPromptTokens([1, 2, 3, 4, 5]);
            for (var i = 0; i < 20; i++)
            {
                source.CopyTo(logits, 0);
                created.Accept(created.Sample(logits).TokenId % 8);
            }

            return created;
        }

        void SampleSteadily(LogitsSampler sampler)
        {
            for (var i = 0; i < 50; i++)
            {
                source.CopyTo(logits, 0);
                sampler.Sample(logits);
            }
        }

        // A twin with the same seed takes exactly the same paths first, so that what the process does once (JIT, a
        // type's first use: a sort helper, a kernel's tables) has happened before the measurement, whatever ran before.
        SampleSteadily(Create());
        var measured = Create();
        var before = GC.GetAllocatedBytesForCurrentThread();
        SampleSteadily(measured);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Sample_LogProbabilities_AreTheRawModelDistribution()
    {
        const int vocabulary = 5000;
        var raw = TestData.PeakedLogits(vocabulary, 4);
        var sampler = new LogitsSampler(
            new SamplingParameters
            {
                Temperature = 0.5f, TopK = 10, RepetitionPenalty = 1.5f, LogitBias = new Dictionary<int, float> { [7] = 30f },
                LogProbabilities = true, TopLogProbabilities = 5, Seed = 1,
            },
            vocabulary);
        sampler.AddPromptTokens([KernelChecks.ReferenceArgMax(raw)]);

        var result = sampler.Sample((float[])raw.Clone());

        var max = raw.Max();
        var lse = max + Math.Log(raw.Sum(l => Math.Exp(l - (double)max)));
        // The bias makes token 7 certain to be drawn, but its reported log-probability is the model's own.
        Assert.Equal(7, result.TokenId);
        Assert.Equal(raw[7] - lse, result.LogProbability, 4);
        var expectedTop = Enumerable.Range(0, vocabulary).OrderByDescending(i => raw[i]).ThenBy(i => i).Take(5).ToArray();
        Assert.Equal(expectedTop, result.TopLogProbabilities!.Select(t => t.TokenId));
        Assert.All(result.TopLogProbabilities!, t => Assert.Equal(raw[t.TokenId] - lse, t.LogProbability, 4));
    }

    [Fact]
    public void Sample_NoLogProbabilitiesRequested_ReportsNaNAndNoList()
    {
        var sampler = new LogitsSampler(new SamplingParameters(), 100);

        var result = sampler.Sample(TestData.Normal(100, 1));

        Assert.True(float.IsNaN(result.LogProbability));
        Assert.Null(result.TopLogProbabilities);
    }

    [Fact]
    public void Sample_LogitBiasMinus100_NeverChoosesToken()
    {
        var logits = TestData.Normal(50, 2);
        var favourite = KernelChecks.ReferenceArgMax(logits);
        var sampler = new LogitsSampler(new SamplingParameters { LogitBias = new Dictionary<int, float> { [favourite] = -100f }, Seed = 5 }, 50);

        for (var i = 0; i < 2000; i++)
        {
            Assert.NotEqual(favourite, sampler.Sample((float[])logits.Clone()).TokenId);
        }
    }

    [Fact]
    public void Sample_RepetitionPenaltyOnPrompt_GreedyAvoidsPromptToken()
    {
        var sampler = new LogitsSampler(new SamplingParameters { Temperature = 0f, RepetitionPenalty = 2f }, 4);
        sampler.AddPromptTokens([0]);

        // Token 0: 3 / 2 = 1.5 < 2; token 3 negative: -1 * 2 unchanged order.
        Assert.Equal(1, sampler.Sample([3f, 2f, 1f, -1f]).TokenId);
    }

    [Fact]
    public void Sample_FrequencyPenalty_GrowsWithCount()
    {
        var sampler = new LogitsSampler(new SamplingParameters { Temperature = 0f, FrequencyPenalty = 0.3f }, 2);

        Assert.Equal(0, sampler.Sample([2f, 1.5f]).TokenId);
        sampler.Accept(0);
        Assert.Equal(0, sampler.Sample([2f, 1.5f]).TokenId);   // 2 - 0.3 = 1.7
        sampler.Accept(0);
        Assert.Equal(1, sampler.Sample([2f, 1.5f]).TokenId);   // 2 - 0.6 = 1.4
    }

    [Fact]
    public void Sample_PresencePenalty_AppliesOnceAndIgnoresPrompt()
    {
        var sampler = new LogitsSampler(new SamplingParameters { Temperature = 0f, PresencePenalty = 0.4f }, 2);
        sampler.AddPromptTokens([0]);

        Assert.Equal(0, sampler.Sample([2f, 1.7f]).TokenId);
        sampler.Accept(0);
        sampler.Accept(0);
        Assert.Equal(1, sampler.Sample([2f, 1.7f]).TokenId);   // 2 - 0.4 = 1.6, once
        Assert.Equal(0, sampler.Sample([2f, 1.5f]).TokenId);
    }

    [Fact]
    public void Sample_WrongLengthOrIds_Throws()
    {
        var sampler = new LogitsSampler(new SamplingParameters(), 10);

        Assert.Throws<ArgumentException>(() => sampler.Sample(new float[9]));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Accept(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.AddPromptTokens([-1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LogitsSampler(new SamplingParameters { TopP = 2f }, 10));
    }
}
