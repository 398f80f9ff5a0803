using System.Net;
using System.Text.Json;
using Infera.Tests;
using Microsoft.Extensions.Time.Testing;

namespace Infera.Server.Tests;

/// <summary>Models loaded on demand: one load for concurrent first requests, least-recently-used eviction, keep-alive expiry.</summary>
public sealed class ModelPoolTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "infera-pool-" + Guid.NewGuid().ToString("N"));
    private int _loads;

    public Task InitializeAsync()
    {
        OllamaFixture.WriteModel(_root, "a", $"FROM {TestModels.Get(TestModels.Stories260KGqa)}\n");
        OllamaFixture.WriteModel(_root, "b", $"FROM {TestModels.Get(TestModels.Stories260KOnnx)}\n");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task TwoModels_MaxLoadedOne_AlternateAndOnlyTheLastStaysLoaded()
    {
        await using var server = await StartAsync(options => options.MaxLoadedModels = 1);
        using var http = server.CreateClient();

        foreach (var name in new[] { "a", "b", "a", "b" })
        {
            var reply = await GenerateAsync(http, name);
            Assert.Equal($"{name}:latest", reply.GetProperty("model").GetString());
            Assert.Equal([$"{name}:latest"], await OllamaHttpTests.RunningAsync(http));
        }

        Assert.Equal(4, Volatile.Read(ref _loads));

        // The OpenAI endpoints route by model through the same pool.
        using var completion = await http.PostAsync("/v1/completions", CompletionsTests.Json("""{"model":"a","prompt":"Once","max_tokens":3}"""));
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        Assert.Equal(["a:latest"], await OllamaHttpTests.RunningAsync(http));
        var models = JsonDocument.Parse(await http.GetStringAsync("/v1/models")).RootElement.GetProperty("data").EnumerateArray().ToList();
        Assert.True(models.Single(m => m.GetProperty("id").GetString() == "a:latest").GetProperty("loaded").GetBoolean());
        Assert.False(models.Single(m => m.GetProperty("id").GetString() == "b:latest").GetProperty("loaded").GetBoolean());
    }

    [Fact]
    public async Task ConcurrentFirstRequests_LoadTheModelOnce()
    {
        await using var server = await StartAsync(_ => { });
        using var http = server.CreateClient();

        var replies = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => GenerateAsync(http, "a")));

        Assert.All(replies, r => Assert.True(r.GetProperty("done").GetBoolean()));
        Assert.Equal(1, Volatile.Read(ref _loads));
    }

    [Fact]
    public async Task KeepAlive_Expires_ModelIsUnloaded()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await StartAsync(options => options.TimeProvider = clock);
        using var http = server.CreateClient();

        await GenerateAsync(http, "b", """ "keep_alive":"5s", """);
        Assert.Equal(["b:latest"], await OllamaHttpTests.RunningAsync(http));

        // The request releases the model after its reply is written; its keep-alive counts from then.
        var registry = (InferaModelRegistry)server.Services.GetService(typeof(InferaModelRegistry))!;
        Assert.True(await Eventually.TrueAsync(() => registry.Loaded().Single().ExpiresAt == clock.GetUtcNow() + TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)));

        // Still loaded just before its keep-alive ends.
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.True(registry.TryGetRunner("b", out _));
        Assert.Equal(["b:latest"], await OllamaHttpTests.RunningAsync(http));

        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await Eventually.TrueAsync(() => !registry.TryGetRunner("b", out _), TimeSpan.FromSeconds(10)));
        Assert.Empty(await OllamaHttpTests.RunningAsync(http));
    }

    private static async Task<JsonElement> GenerateAsync(HttpClient http, string model, string extra = "")
    {
        using var response = await http.PostAsync("/api/generate", CompletionsTests.Json($$$"""{"model":"{{{model}}}",{{{extra}}}"prompt":"Once upon a time","raw":true,"stream":false,"options":{"num_predict":4}}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private Task<InferaTestServer> StartAsync(Action<InferaServerOptions> configure) => InferaTestServer.StartAsync(options =>
    {
        options.Catalog = new DirectoryModelCatalog(_root);
        options.ConfigureCatalogRunner = _ => Interlocked.Increment(ref _loads);
        configure(options);
    });
}
