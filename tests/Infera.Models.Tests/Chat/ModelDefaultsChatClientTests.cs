using Microsoft.Extensions.AI;

namespace Infera.Models.Tests;

public sealed class ModelDefaultsChatClientTests
{
    private static readonly ResolvedModel Model = CreateModel();

    [Fact]
    public async Task GetResponseAsync_NoSystemMessage_AddsTheModelfileSystemAndFillsUnsetOptions()
    {
        var inner = new RecordingChatClient();
        using var client = new ChatClientBuilder(inner).UseModelDefaults(Model).Build();

        await client.GetResponseAsync("hi", new ChatOptions { TopK = 7 });

        Assert.Equal([ChatRole.System, ChatRole.User], inner.Messages!.Select(m => m.Role));
        Assert.Equal("Be brief.", inner.Messages![0].Text);
        Assert.Equal(0.2f, inner.Options!.Temperature);
        Assert.Equal(7, inner.Options.TopK);
        Assert.Equal(99, inner.Options.Seed);
        Assert.Equal(["STOP"], inner.Options.StopSequences!);
        Assert.Equal(0.05f, inner.Options.AdditionalProperties!["min_p"]);
        Assert.Equal(1.3f, inner.Options.AdditionalProperties!["repetition_penalty"]);
    }

    [Fact]
    public async Task GetResponseAsync_CallerSystemMessageOrInstructions_KeptAsIs()
    {
        var inner = new RecordingChatClient();
        using var client = new ModelDefaultsChatClient(inner, Model);

        await client.GetResponseAsync([new ChatMessage(ChatRole.System, "mine"), new ChatMessage(ChatRole.User, "hi")]);
        Assert.Equal(["mine", "hi"], inner.Messages!.Select(m => m.Text));

        await client.GetResponseAsync("hi", new ChatOptions { Instructions = "own", Temperature = 1 });
        Assert.Equal(["hi"], inner.Messages!.Select(m => m.Text));
        Assert.Equal(1f, inner.Options!.Temperature);
        Assert.Same(Model, client.GetService(typeof(ResolvedModel)));
    }

    private static ResolvedModel CreateModel()
    {
        var parameters = new ModelParameters { Temperature = 0.2f, Seed = 99, TopK = 3, MinP = 0.05f, RepeatPenalty = 1.3f };
        parameters.Stop.Add("STOP");
        return new ResolvedModel { Name = "x:latest", ModelDirectory = "/nowhere", Parameters = parameters, System = "Be brief." };
    }

    private sealed class RecordingChatClient : IChatClient
    {
        public List<ChatMessage>? Messages { get; private set; }

        public ChatOptions? Options { get; private set; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Messages = [.. messages];
            Options = options;
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
