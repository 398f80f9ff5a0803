using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Infera.Remote;
using Microsoft.Extensions.AI;

namespace Infera.Tests;

/// <summary><see cref="RemoteChatClient"/> over real <c>infera serve</c> processes (<see cref="Backends"/>).</summary>
[Collection(BackendsCollection.Name)]
public sealed class RemoteChatClientTests(Backends backends) : IAsyncLifetime
{
    private static readonly string[] Names = ["Lily", "Tom", "Ben", "Sue", "Max", "Mia", "Sam", "Tim"];
    private static readonly ChatOptions Greedy = new() { Temperature = 0, MaxOutputTokens = 16 };

    public Task InitializeAsync() => backends.EnsureRunningAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task KillOneEndpoint_Concurrency8_EveryRequestAnsweredWithTheSingleServerTextAndTheRestartedEndpointServesAgain()
    {
        var expected = new Dictionary<string, string>();
        using (var single = Pool(backends.Urls[..1]))
        {
            foreach (var name in Names)
            {
                expected[name] = (await single.GetResponseAsync(Prompt(name), Greedy)).Text;
            }
        }

        var attempts = new ConcurrentQueue<(string Endpoint, string Outcome)>();
        using var listener = Listen(attempts);
        using var pool = Pool(backends.Urls[..2]);
        using var rarelyProbed = Pool(backends.Urls[..2], probeInterval: TimeSpan.FromMinutes(5));
        await pool.ProbeAsync();
        await rarelyProbed.ProbeAsync();
        Assert.All(pool.EndpointStates, e => Assert.True(e.Healthy && e.Models is [Backends.Tiny], $"{e}"));

        var results = await backends.LoadWhileKillingSecondAsync(async i =>
        {
            var name = Names[i % Names.Length];
            var response = await pool.GetResponseAsync(Prompt(name), Greedy);
            var endpoint = (string)response.AdditionalProperties![RemoteChatClient.EndpointProperty]!;
            return ((Name: name, response.Text, Endpoint: endpoint), endpoint);
        });

        Assert.Equal(48, results.Count);
        Assert.All(results, r => Assert.Equal(expected[r.Answer.Name], r.Answer.Text));
        Assert.Contains(results, r => r.Answer.Endpoint == backends.Name(1));
        Assert.All(results.Where(r => r.AfterKill), r => Assert.Equal(backends.Name(0), r.Answer.Endpoint));

        // Not started: a stream whose conversation belongs to the dead endpoint moves to the other before its first token.
        var opener = backends.OpenerOfSecond();
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in rarelyProbed.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, opener)], Greedy))
        {
            updates.Add(update);
        }

        Assert.Equal((await pool.GetResponseAsync([new ChatMessage(ChatRole.User, opener)], Greedy)).Text, string.Concat(updates.Select(u => u.Text)));
        Assert.All(updates, u => Assert.Equal(backends.Name(0), u.AdditionalProperties![RemoteChatClient.EndpointProperty]));
        Assert.False(rarelyProbed.EndpointStates.Single(e => e.Name == backends.Name(1)).Healthy);
        Assert.Contains((backends.Name(1), "failed"), attempts);

        // Restarted on its port, the endpoint is probed healthy and takes requests again (new prompts, so that some prefer it).
        await backends.StartAsync(1);
        using var reference = Pool(backends.Urls[..1]);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        for (int i = 0; ; i++)
        {
            var prompt = Prompt($"{Names[i % Names.Length]} and friend {i}");
            var response = await pool.GetResponseAsync(prompt, Greedy, deadline.Token);
            Assert.Equal((await reference.GetResponseAsync(prompt, Greedy)).Text, response.Text);
            if ((string?)response.AdditionalProperties![RemoteChatClient.EndpointProperty] == backends.Name(1))
            {
                break;
            }
        }
    }

    [Fact]
    public async Task StreamStarted_EndpointDies_RemoteStreamExceptionAfterTheTokensAndNoSecondAttempt()
    {
        string[] chunks = ["""{"id":"c1","object":"chat.completion.chunk","created":1,"model":"tiny","choices":[{"index":0,"delta":{"role":"assistant","content":"Once"},"finish_reason":null}]}""", """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"tiny","choices":[{"index":0,"delta":{"content":" upon"},"finish_reason":null}]}"""];
        await using var first = new RawBackend(chunks);
        await using var second = new RawBackend(chunks);
        using var pool = Pool([first.Url, second.Url]);
        await pool.ProbeAsync();

        var text = new List<string>();
        var error = await Assert.ThrowsAsync<RemoteStreamException>(async () =>
        {
            await foreach (var update in pool.GetStreamingResponseAsync("Once", Greedy))
            {
                text.Add(update.Text);
            }
        });

        Assert.Equal("Once upon", string.Concat(text));
        Assert.Contains("after the response started streaming", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, first.Chats + second.Chats);
    }

    [Fact]
    public async Task Conversations_TurnsStayOnOneEndpoint()
    {
        using var pool = Pool(backends.Urls[..2]);
        await pool.ProbeAsync();
        int turns = 0, onFirst = 0;
        for (int c = 0; c < 6; c++)
        {
            var messages = new List<ChatMessage> { new(ChatRole.System, "You tell short stories."), new(ChatRole.User, $"Tell me a story about a cat called Tom number {c}.") };
            string? first = null;
            for (int turn = 0; turn < 4; turn++)
            {
                var response = await pool.GetResponseAsync(messages, new ChatOptions { Temperature = 0, MaxOutputTokens = 8 });
                var endpoint = (string)response.AdditionalProperties![RemoteChatClient.EndpointProperty]!;
                first ??= endpoint;
                turns++;
                onFirst += endpoint == first ? 1 : 0;
                messages.AddRange(response.Messages);
                messages.Add(new ChatMessage(ChatRole.User, $"And then, part {turn}?"));
            }
        }

        Assert.True(onFirst >= 0.9 * turns, $"{onFirst} of {turns} turns on their conversation's endpoint");
    }

    [Fact]
    public async Task MixedModels_RequestsReachAnEndpointWithTheModel_UnknownModelFailsNamingIt()
    {
        using var pool = Pool(backends.Urls, defaultModel: null);
        await pool.ProbeAsync();

        for (int i = 0; i < 3; i++)
        {
            var other = await pool.GetResponseAsync(Prompt(Names[i]), new ChatOptions { ModelId = Backends.Other, Temperature = 0, MaxOutputTokens = 8 });
            Assert.Equal(backends.Name(2), other.AdditionalProperties![RemoteChatClient.EndpointProperty]);
            var tiny = await pool.GetResponseAsync(Prompt(Names[i]), new ChatOptions { ModelId = Backends.Tiny, Temperature = 0, MaxOutputTokens = 8 });
            Assert.Contains(tiny.AdditionalProperties![RemoteChatClient.EndpointProperty], new object[] { backends.Name(0), backends.Name(1) });
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => pool.GetResponseAsync("Once", new ChatOptions { ModelId = "no-such-model" }));
        Assert.Contains("'no-such-model'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Overflow_LocalQueueFull_ThePoolAnswers()
    {
        using var pool = Pool(backends.Urls[..1]);
        await pool.ProbeAsync();
        using var full = new ChatClientBuilder(new FullLocalClient()).UseOverflow(pool).Build();
        using var free = new ChatClientBuilder(new AnsweringLocalClient()).UseOverflow(pool).Build();

        var overflowed = await full.GetResponseAsync(Prompt("Lily"), Greedy);
        var streamed = new List<ChatResponseUpdate>();
        await foreach (var update in full.GetStreamingResponseAsync(Prompt("Lily"), Greedy))
        {
            streamed.Add(update);
        }

        Assert.Equal(backends.Name(0), overflowed.AdditionalProperties![RemoteChatClient.EndpointProperty]);
        Assert.Equal(overflowed.Text, string.Concat(streamed.Select(u => u.Text)));
        Assert.Equal(2, full.GetService<OverflowChatClient>()!.Overflowed);
        Assert.Equal("local", (await free.GetResponseAsync(Prompt("Lily"))).Text);
        Assert.Equal(0, free.GetService<OverflowChatClient>()!.Overflowed);
    }

    private static List<ChatMessage> Prompt(string name) => [new(ChatRole.User, $"Once upon a time, {name}")];

    private static RemoteChatClient Pool(Uri[] endpoints, TimeSpan? probeInterval = null, string? defaultModel = Backends.Tiny)
    {
        var options = new RemoteChatClientOptions
        {
            ApiKey = Backends.Key,
            DefaultModel = defaultModel,
            ProbeInterval = probeInterval ?? TimeSpan.FromMilliseconds(250),
            EjectionPeriod = TimeSpan.FromMilliseconds(500),
        };
        foreach (var endpoint in endpoints)
        {
            options.Endpoints.Add(endpoint);
        }

        return new RemoteChatClient(options);
    }

    private static MeterListener Listen(ConcurrentQueue<(string Endpoint, string Outcome)> attempts)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Infera.Remote" && instrument.Name == "infera.remote.requests")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? endpoint = null, outcome = null;
            foreach (var tag in tags)
            {
                endpoint = tag.Key == "endpoint" ? (string?)tag.Value : endpoint;
                outcome = tag.Key == "outcome" ? (string?)tag.Value : outcome;
            }

            attempts.Enqueue((endpoint!, outcome!));
        });
        listener.Start();
        return listener;
    }

    private sealed class FullLocalClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new RequestQueueFullException();

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            throw new RequestQueueFullException();
#pragma warning disable CS0162 // An iterator needs a yield.
            yield break;
#pragma warning restore CS0162
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private sealed class AnsweringLocalClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "local")));

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
