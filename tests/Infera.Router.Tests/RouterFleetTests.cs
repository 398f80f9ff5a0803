using System.Net;
using System.Text;
using System.Text.Json;

namespace Infera.Tests;

/// <summary>The router in front of real <c>infera serve</c> processes (<see cref="Backends"/>): failures, affinity, models, keys.</summary>
[Collection(BackendsCollection.Name)]
public sealed class RouterFleetTests(Backends backends) : IAsyncLifetime
{
    private static readonly string[] Prompts = [.. new[] { "Lily", "Tom", "Ben", "Sue", "Max", "Mia", "Sam", "Tim" }.Select(n => $"Once upon a time, {n}")];

    public Task InitializeAsync() => backends.EnsureRunningAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task KillOneBackend_Concurrency8_EveryRequestAnsweredWithTheSingleServerTextAndTheRestartedBackendServesAgain()
    {
        using var direct = Backends.Client(backends.Urls[0]);
        var expected = new Dictionary<string, string>();
        foreach (var prompt in Prompts)
        {
            expected[prompt] = (await Backends.CompleteAsync(direct, prompt)).Text!;
        }

        await using var router = await RouterHost.StartAsync(backends.Urls);
        await router.WaitUntilEveryBackendIsKnownAsync();

        // A second router that probes rarely: after the kill it still sends to the dead backend, and must retry.
        await using var slowProbes = await RouterHost.StartAsync(backends.Urls[..2], o => o.HealthCheckInterval = TimeSpan.FromMinutes(5));
        using var http = Backends.Client(router.Url, key: null);
        using var slowHttp = Backends.Client(slowProbes.Url, key: null);
        await slowProbes.WaitUntilEveryBackendIsKnownAsync();

        var results = await backends.LoadWhileKillingSecondAsync(async i =>
        {
            var prompt = Prompts[i % Prompts.Length];
            var (response, text) = await Backends.CompleteAsync(http, prompt);
            var backend = Backends.BackendOf(response);
            return ((Prompt: prompt, Status: response.StatusCode, Text: text, Backend: backend), backend);
        });

        Assert.Equal(48, results.Count);
        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.Answer.Status));
        Assert.All(results, r => Assert.Equal(expected[r.Answer.Prompt], r.Answer.Text));
        Assert.Contains(results, r => r.Answer.Backend == backends.Name(1));
        Assert.All(results.Where(r => r.AfterKill), r => Assert.Equal(backends.Name(0), r.Answer.Backend));

        // A stream whose conversation belongs to the dead backend is sent there, fails before its first byte, and is answered by the other.
        var opener = backends.OpenerOfSecond();
        var (_, directText, _) = await Backends.StreamChatAsync(direct, [("user", opener)]);
        var (streamed, text, events) = await Backends.StreamChatAsync(slowHttp, [("user", opener)]);
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.Equal(backends.Name(0), Backends.BackendOf(streamed));
        Assert.Equal(directText, text);
        Assert.Equal("[DONE]", events[^1]);
        Assert.Matches($"(?m)^infera_router_retries_total\\{{backend=\"{Regex(backends.Name(1))}\",reason=\"Request\"\\}} [1-9]", await slowHttp.GetStringAsync("/metrics"));

        // Restarted on its port, the backend is probed healthy and takes requests again (new prompts, so that some prefer it).
        await backends.StartAsync(1);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        for (int i = 0; ; i++)
        {
            deadline.Token.ThrowIfCancellationRequested();
            var prompt = $"{Prompts[i % Prompts.Length]} and friend {i}";
            var (response, again) = await Backends.CompleteAsync(http, prompt);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal((await Backends.CompleteAsync(direct, prompt)).Text, again);
            if (Backends.BackendOf(response) == backends.Name(1))
            {
                break;
            }
        }
    }

    [Fact]
    public async Task Conversations_TurnsLandOnOneBackend()
    {
        await using var router = await RouterHost.StartAsync(backends.Urls[..2]);
        await router.WaitUntilEveryBackendIsKnownAsync();
        using var http = Backends.Client(router.Url, key: null);
        int turns = 0, onFirstBackend = 0;
        var firstBackends = new HashSet<string>();
        for (int c = 0; c < 6; c++)
        {
            var messages = new List<(string Role, string Content)> { ("system", "You tell short stories."), ("user", $"Tell me a story about a dog called Rex number {c}.") };
            string? first = null;
            for (int turn = 0; turn < 4; turn++)
            {
                var (response, text, _) = await Backends.StreamChatAsync(http, messages, maxTokens: 8);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var backend = Backends.BackendOf(response)!;
                first ??= backend;
                turns++;
                onFirstBackend += backend == first ? 1 : 0;
                messages.Add(("assistant", text));
                messages.Add(("user", $"And then what happened, part {turn}?"));
            }

            firstBackends.Add(first!);
        }

        Assert.True(onFirstBackend >= 0.9 * turns, $"{onFirstBackend} of {turns} turns on their conversation's backend");
        Assert.All(firstBackends, b => Assert.Contains(b, new[] { backends.Name(0), backends.Name(1) }));
    }

    [Fact]
    public async Task MixedModels_RequestsReachABackendWithTheModel_UnknownModelIs404()
    {
        await using var router = await RouterHost.StartAsync(backends.Urls);
        await router.WaitUntilEveryBackendIsKnownAsync();
        using var http = Backends.Client(router.Url, key: null);

        for (int i = 0; i < 3; i++)
        {
            var (other, otherText) = await Backends.CompleteAsync(http, Prompts[i], model: Backends.Other);
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            Assert.False(string.IsNullOrEmpty(otherText));
            Assert.Equal(backends.Name(2), Backends.BackendOf(other));

            var (tiny, _) = await Backends.CompleteAsync(http, Prompts[i], model: Backends.Tiny);
            Assert.Equal(HttpStatusCode.OK, tiny.StatusCode);
            Assert.Contains(Backends.BackendOf(tiny), new[] { backends.Name(0), backends.Name(1) });
        }

        var ids = JsonDocument.Parse(await http.GetStringAsync("/v1/models")).RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Equal(1, ids.Count(id => id == Backends.Tiny));
        Assert.Equal(1, ids.Count(id => id == Backends.Other));

        var (unknown, _) = await Backends.CompleteAsync(http, "Once", model: "no-such-model");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("router", Backends.BackendOf(unknown));
        var error = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
        Assert.Contains("no-such-model", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Ollama's API passes through to the backend with the model, and answers an unknown model in Ollama's shape.
        using var generate = await http.PostAsync("/api/generate", new StringContent("""{"model":"other","prompt":"Once upon a time","raw":true,"stream":false,"options":{"temperature":0,"num_predict":8}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, generate.StatusCode);
        Assert.Equal(backends.Name(2), Backends.BackendOf(generate));
        Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(await generate.Content.ReadAsStringAsync()).RootElement.GetProperty("response").GetString()));
        using var missing = await http.PostAsync("/api/generate", new StringContent("""{"model":"no-such-model","prompt":"Once"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("model 'no-such-model' not found", JsonDocument.Parse(await missing.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        Assert.Contains(JsonDocument.Parse(await http.GetStringAsync("/api/tags")).RootElement.GetProperty("models").EnumerateArray(), m => m.GetProperty("name").GetString() == "other:latest");
    }

    [Fact]
    public async Task ApiKey_CheckedAtTheEdge_BackendKeySentUpstream()
    {
        await using var router = await RouterHost.StartAsync(backends.Urls[..1], o => o.ApiKey = "edge-key");
        using var anonymous = Backends.Client(router.Url, key: null);
        using var wrong = Backends.Client(router.Url, key: "wrong");
        using var right = Backends.Client(router.Url, key: "edge-key");

        var (none, _) = await Backends.CompleteAsync(anonymous, "Once");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("router", Backends.BackendOf(none));
        Assert.Equal("invalid_api_key", JsonDocument.Parse(await none.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Backends.CompleteAsync(wrong, "Once")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/models")).StatusCode);

        var (allowed, text) = await Backends.CompleteAsync(right, "Once");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.False(string.IsNullOrEmpty(text));
        Assert.Equal(backends.Name(0), Backends.BackendOf(allowed));
        Assert.Equal(HttpStatusCode.OK, (await right.GetAsync("/v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);

        // Without a backend key the router's own key is not passed on: the backend sees none.
        await using var noBackendKey = await RouterHost.StartAsync(backends.Urls[..1], o => { o.ApiKey = "edge-key"; o.BackendApiKey = null; });
        using var client = Backends.Client(noBackendKey.Url, key: "edge-key");
        using var refused = await client.PostAsync("/v1/completions", new StringContent("""{"prompt":"Once","max_tokens":4}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(backends.Name(0), Backends.BackendOf(refused));
        Assert.Contains("didn't provide an API key", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthAndMetrics_NameEveryBackend()
    {
        await using var router = await RouterHost.StartAsync(backends.Urls);
        await router.WaitUntilEveryBackendIsKnownAsync();
        using var http = Backends.Client(router.Url, key: null);
        Assert.Equal(HttpStatusCode.OK, (await Backends.CompleteAsync(http, "Once")).Response.StatusCode);

        using var health = await http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("router", Backends.BackendOf(health));
        var listed = JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement.GetProperty("backends").EnumerateArray().ToList();
        Assert.Equal(backends.Urls.Select((_, i) => backends.Name(i)).Order(StringComparer.Ordinal), listed.Select(b => b.GetProperty("url").GetString()));
        Assert.Contains(listed, b => b.GetProperty("models").EnumerateArray().Any(m => m.GetString() == Backends.Other));

        var metrics = await http.GetStringAsync("/metrics");
        Assert.Matches("(?m)^infera_router_requests_total\\{backend=\"http://127\\.0\\.0\\.1:\\d+\",status=\"200\"\\} [1-9]", metrics);
        foreach (var i in new[] { 0, 1, 2 })
        {
            Assert.Contains($"infera_router_backend_healthy{{backend=\"{backends.Name(i)}\"}} 1", metrics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RouterCommand_ServesThroughTheBackend_AndRejectsABadBackendInOneLine()
    {
        await using var router = await ServeProcess.StartAsync($"router --backend {backends.Urls[0]} --port 0 --api-key edge-key --backend-api-key {Backends.Key} --health-interval 1");
        using var http = Backends.Client(router.Url, key: "edge-key");

        var (response, text) = await Backends.CompleteAsync(http, Prompts[0]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(string.IsNullOrEmpty(text));
        Assert.Equal(backends.Name(0), Backends.BackendOf(response));
        var (exitCode, _, stderr) = await InferaTool.RunAsync("router --backend ftp://example.com");
        Assert.Equal(1, exitCode);
        Assert.Equal("infera: error: --backend must be an http:// or https:// address; it was 'ftp://example.com'.", stderr.Trim());
    }

    private static string Regex(string text) => System.Text.RegularExpressions.Regex.Escape(text);
}
