using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Infera.Tests;

public sealed class InferaChatClientTests(Stories260KFixture fixture) : IClassFixture<Stories260KFixture>
{
    private InferaChatClient CreateClient() => new(fixture.Runner);

    [Fact]
    public async Task GetStreamingResponseAsync_SingleUserMessageGreedy_EqualsLlama2CGolden()
    {
        using var client = CreateClient();
        var golden = TestModels.Golden("golden-once-upon-a-time.txt");
        var promptTokens = fixture.Runner.Tokenizer.Encode("Once upon a time").Length;

        var text = new System.Text.StringBuilder();
        await foreach (var update in client.GetStreamingResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 257 - promptTokens }))
        {
            text.Append(update.Text);
        }

        Assert.Equal(golden.TrimEnd(), ("Once upon a time" + text).TrimEnd());
    }

    [Fact]
    public async Task GetStreamingResponseAsync_Updates_CarryIdsAndLastCarriesUsageAndFinishReason()
    {
        using var client = CreateClient();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 10 }))
        {
            updates.Add(update);
        }

        Assert.All(updates, u =>
        {
            Assert.StartsWith("chatcmpl-", u.ResponseId);
            Assert.Equal(updates[0].ResponseId, u.ResponseId);
            Assert.Equal("stories260K-onnx", u.ModelId);
            Assert.NotNull(u.CreatedAt);
            Assert.Equal(ChatRole.Assistant, u.Role);
        });
        Assert.All(updates[..^1], u => Assert.Null(u.FinishReason));
        var last = updates[^1];
        Assert.Equal(ChatFinishReason.Length, last.FinishReason);
        var usage = Assert.Single(last.Contents.OfType<UsageContent>());
        Assert.Equal(fixture.Runner.Tokenizer.Encode("Once upon a time").Length, usage.Details.InputTokenCount);
        Assert.Equal(10, usage.Details.OutputTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_BuiltOnStreaming_HasTextUsageAndFinishReason()
    {
        using var client = CreateClient();

        var response = await client.GetResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 12 });

        Assert.False(string.IsNullOrWhiteSpace(response.Text));
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(12, response.Usage?.OutputTokenCount);
        Assert.StartsWith("chatcmpl-", response.ResponseId);
    }

    [Fact]
    public async Task GetResponseAsync_MultiTokenStopSequence_StopsBeforeItAndOmitsIt()
    {
        using var client = CreateClient();
        var full = (await client.GetResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 60 })).Text;
        const string stop = "little girl named";
        Assert.Contains(stop, full);

        var stopped = await client.GetResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 60, StopSequences = [stop] });

        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);
        Assert.True(fixture.Runner.Tokenizer.Encode(stop, addSpecialTokens: false).Length > 1);
    }

    [Fact]
    public async Task GetResponseAsync_SameSeed_SameText()
    {
        using var client = CreateClient();
        var options = new ChatOptions { Temperature = 1f, TopK = 40, TopP = 0.95f, Seed = 1234, MaxOutputTokens = 40 };

        var first = await client.GetResponseAsync("Once upon a time", options);
        var second = await client.GetResponseAsync("Once upon a time", options);

        Assert.Equal(first.Text, second.Text);
    }

    [Theory]
    [InlineData(nameof(ChatOptions.Temperature))]
    [InlineData(nameof(ChatOptions.TopP))]
    [InlineData(nameof(ChatOptions.TopK))]
    [InlineData(nameof(ChatOptions.MaxOutputTokens))]
    [InlineData(nameof(ChatOptions.FrequencyPenalty))]
    [InlineData(nameof(ChatOptions.PresencePenalty))]
    public async Task GetResponseAsync_OutOfRangeOption_ThrowsNamingTheChatOption(string option)
    {
        using var client = CreateClient();
        var options = option switch
        {
            nameof(ChatOptions.Temperature) => new ChatOptions { Temperature = 2.5f },
            nameof(ChatOptions.TopP) => new ChatOptions { TopP = 0 },
            nameof(ChatOptions.TopK) => new ChatOptions { TopK = -1 },
            nameof(ChatOptions.MaxOutputTokens) => new ChatOptions { MaxOutputTokens = 0 },
            nameof(ChatOptions.FrequencyPenalty) => new ChatOptions { FrequencyPenalty = 2.5f },
            _ => new ChatOptions { PresencePenalty = -2.5f },
        };

        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetResponseAsync("Hi", options));

        Assert.Equal(option, ex.ParamName);
    }

    [Fact]
    public async Task GetResponseAsync_AdditionalPropertyOutOfRange_ThrowsNamingIt()
    {
        using var client = CreateClient();
        var options = new ChatOptions { AdditionalProperties = new() { ["min_p"] = 1.5 } };

        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetResponseAsync("Hi", options));

        Assert.Equal(nameof(GenerationOptions.MinP), ex.ParamName);
    }

    [Theory]
    [InlineData("min_p", "x")]
    [InlineData("repetition_penalty", "\"x\"")]
    [InlineData("top_logprobs", "[1]")]
    [InlineData("logprobs", "\"maybe\"")]
    [InlineData("logit_bias", "{\"abc\":5}")]
    [InlineData("logit_bias", "{\"5\":\"x\"}")]
    public async Task GetResponseAsync_AdditionalPropertyOfTheWrongType_ThrowsArgumentExceptionNamingIt(string key, string value)
    {
        using var client = CreateClient();
        object given = value == "x" ? value : System.Text.Json.JsonElement.Parse(value);
        var options = new ChatOptions { AdditionalProperties = new() { [key] = given } };

        var ex = await Assert.ThrowsAnyAsync<ArgumentException>(() => client.GetResponseAsync("Hi", options));

        Assert.Equal(key, ex.ParamName);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_LogProbabilitiesRequested_UpdatesCarryThem()
    {
        using var client = CreateClient();
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 5, AdditionalProperties = new() { ["logprobs"] = true, ["top_logprobs"] = 2 } };

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("Once upon a time", options))
        {
            updates.Add(update);
        }

        var all = updates.Where(u => u.AdditionalProperties?.ContainsKey(InferaChatClient.LogProbabilitiesKey) == true)
            .SelectMany(u => (IReadOnlyList<TokenLogProbabilities>)u.AdditionalProperties![InferaChatClient.LogProbabilitiesKey]!)
            .ToList();
        Assert.Equal(5, all.Count);
        Assert.All(all, lp => Assert.Equal(2, lp.TopAlternatives.Count));
    }

    [Fact]
    public async Task GetResponseAsync_PromptLongerThanContext_ThrowsClearErrorByDefault()
    {
        using var client = CreateClient();
        var prompt = string.Concat(Enumerable.Repeat("The dog ran to the park and played. ", 80));

        await Assert.ThrowsAsync<ContextLengthExceededException>(() => client.GetResponseAsync(prompt, new ChatOptions { MaxOutputTokens = 10 }));
    }

    [Fact]
    public async Task GetStreamingResponseAsync_Cancelled_StopsWithinOneStep()
    {
        using var client = CreateClient();
        using var cts = new CancellationTokenSource();
        var seen = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync("Once upon a time", new ChatOptions { MaxOutputTokens = 400 }, cts.Token))
            {
                if (++seen == 2)
                {
                    await cts.CancelAsync();
                }
            }
        });

        Assert.InRange(seen, 2, 3);
        Assert.Equal(0, fixture.Runner.RunningRequests);
    }

    [Fact]
    public void GetService_ReturnsMetadataRunnerAndTokenizer()
    {
        using var client = CreateClient();

        var metadata = client.GetService<ChatClientMetadata>();
        Assert.Equal("infera", metadata?.ProviderName);
        Assert.Equal("stories260K-onnx", metadata?.DefaultModelId);
        Assert.Same(fixture.Runner, client.GetService<IModelRunner>());
        Assert.Same(fixture.Runner, client.GetService<OnnxModelRunner>());
        Assert.Same(fixture.Runner.Tokenizer, client.GetService<ITokenizer>());
        Assert.Same(client, client.GetService<InferaChatClient>());
        Assert.Null(client.GetService<IModelRunner>("some-key"));
    }

    [Fact]
    public async Task Middleware_OpenTelemetryAndLogging_StreamThrough()
    {
        using var inner = CreateClient();
        using var client = new ChatClientBuilder(inner).UseOpenTelemetry().UseLogging(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).Build();

        var response = await client.GetResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 6 });

        Assert.Equal(6, response.Usage?.OutputTokenCount);
        Assert.Same(fixture.Runner, client.GetService<IModelRunner>());
    }
}

public sealed class InferaChatClientRegistrationTests
{
    [Fact]
    public async Task AddInferaChatClient_ResolvesAWorkingClientWithMiddleware()
    {
        var services = new ServiceCollection();
        services.AddInferaChatClient(TestModels.Get(TestModels.Stories260KGqa), o => o.Runner.IntraOpThreads = 1).UseOpenTelemetry();
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<IChatClient>();
        var response = await client.GetResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 4 });

        Assert.Equal(4, response.Usage?.OutputTokenCount);
        Assert.Same(provider.GetRequiredService<IModelRunner>(), client.GetService<IModelRunner>());
    }

    [Fact]
    public async Task AddKeyedInferaChatClient_TwoModels_ResolveSeparately()
    {
        var services = new ServiceCollection();
        services.AddKeyedInferaChatClient("gqa", TestModels.Get(TestModels.Stories260KGqa));
        services.AddKeyedInferaChatClient("plain", TestModels.Get(TestModels.Stories260KOnnx));
        await using var provider = services.BuildServiceProvider();

        var gqa = provider.GetRequiredKeyedService<IChatClient>("gqa");
        var plain = provider.GetRequiredKeyedService<IChatClient>("plain");

        Assert.Equal("stories260K-gqa", gqa.GetService<ChatClientMetadata>()?.DefaultModelId);
        Assert.Equal("stories260K-onnx", plain.GetService<ChatClientMetadata>()?.DefaultModelId);
    }
}

public sealed class ChatTemplateTests
{
    [Fact]
    public async Task GetResponseAsync_ModelWithChatTemplate_RendersMessagesThroughIt()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.TinyRandomLlamaFp16));
        Assert.NotNull(runner.Tokenizer.ChatTemplate);

        var rendered = runner.Tokenizer.ApplyChatTemplate("""[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi there"}]""");

        Assert.Contains("Be brief.", rendered);
        Assert.Contains("Hi there", rendered);
        Assert.Contains("[INST]", rendered);

        using var client = new InferaChatClient(runner);
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi there")], new ChatOptions { Temperature = 0, MaxOutputTokens = 3, Instructions = "Be brief." });
        var expectedPromptTokens = runner.Tokenizer.Encode(rendered, addSpecialTokens: false).Length;
        Assert.Equal(expectedPromptTokens, response.Usage?.InputTokenCount);
    }

    [Fact]
    public async Task ApplyChatTemplate_ModelWithoutTemplate_Throws()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx));

        Assert.Null(runner.Tokenizer.ChatTemplate);
        Assert.Throws<InvalidOperationException>(() => runner.Tokenizer.ApplyChatTemplate("[]"));
    }

    [Fact]
    public async Task GetResponseAsync_NoTemplateMultiTurn_UsesDocumentedPlainTextFallback()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx));
        using var client = new InferaChatClient(runner);
        ChatMessage[] messages = [new(ChatRole.User, "Tell me a story."), new(ChatRole.Assistant, "Once upon a time."), new(ChatRole.User, "More.")];

        var response = await client.GetResponseAsync(messages, new ChatOptions { Temperature = 0, MaxOutputTokens = 2, Instructions = "Be kind." });

        var expected = "System: Be kind.\nUser: Tell me a story.\nAssistant: Once upon a time.\nUser: More.\nAssistant:";
        Assert.Equal(runner.Tokenizer.Encode(expected).Length, response.Usage?.InputTokenCount);
    }
}
