using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Infera.Remote;

namespace Infera.Tests;

/// <summary>
/// Three <c>infera serve</c> processes on the shared models, each on its own port (kept across a restart): two serve
/// stories260K-gqa as <c>tiny</c>, the third stories260K-onnx as <c>other</c>. Every backend requires <see cref="Key"/>.
/// </summary>
public sealed class Backends : IAsyncLifetime
{
    public const string Key = "backend-key";
    public const string Tiny = "tiny";
    public const string Other = "other";

    private readonly ServeProcess?[] _processes = new ServeProcess?[3];
    private readonly int[] _ports = [ServeProcess.FreePort(), ServeProcess.FreePort(), ServeProcess.FreePort()];

    /// <summary>Gets the backends' addresses: <c>tiny</c>, <c>tiny</c>, <c>other</c>.</summary>
    public Uri[] Urls => [.. _ports.Select(p => new Uri($"http://127.0.0.1:{p}"))];

    /// <summary>Gets the name the router gives backend <paramref name="index"/> (its address).</summary>
    public string Name(int index) => Urls[index].GetLeftPart(UriPartial.Authority);

    public async Task InitializeAsync() => await Task.WhenAll(Enumerable.Range(0, 3).Select(StartAsync));

    /// <summary>Starts again every backend whose process is gone (a test that killed one failed before restarting it).</summary>
    public async Task EnsureRunningAsync()
    {
        for (int i = 0; i < _processes.Length; i++)
        {
            if (_processes[i] is not { HasExited: false })
            {
                await StartAsync(i);
            }
        }
    }

    /// <summary>Kills backend <paramref name="index"/> with SIGKILL.</summary>
    public void Kill(int index) => _processes[index]!.Kill();

    /// <summary>
    /// Closed-loop load during which backend 1 dies: 8 workers send 6 requests each (worker w's request r is number
    /// w + r); once 8 have been answered and backend 1 has answered one, it is killed while the others are in flight.
    /// </summary>
    /// <param name="send">Sends request number i and returns what to check and the backend that answered it.</param>
    /// <returns>Every answer (48), each with whether it was sent after the kill.</returns>
    public async Task<IReadOnlyList<(T Answer, bool AfterKill)>> LoadWhileKillingSecondAsync<T>(Func<int, Task<(T Answer, string? Backend)>> send)
    {
        var results = new ConcurrentQueue<(T, bool)>();
        int completed = 0, onKilled = 0, killing = 0;
        var killed = new TaskCompletionSource();
        async Task WorkerAsync(int worker)
        {
            for (int round = 0; round < 6; round++)
            {
                bool afterKill = killed.Task.IsCompleted;
                var (answer, backend) = await send(worker + round);
                results.Enqueue((answer, afterKill));
                if (backend == Name(1))
                {
                    Interlocked.Increment(ref onKilled);
                }

                if (Interlocked.Increment(ref completed) >= 8 && Volatile.Read(ref onKilled) > 0 && Interlocked.Exchange(ref killing, 1) == 0)
                {
                    Kill(1);
                    killed.SetResult();
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(WorkerAsync));
        Assert.True(killed.Task.IsCompleted, "backend 1 answered no request, so it was never killed");
        return [.. results];
    }

    /// <summary>A conversation opener that the routing rule sends to backend 1 of the first two.</summary>
    public string OpenerOfSecond() => Enumerable.Range(0, 100).Select(i => $"Tell me story number {i}.")
        .First(o => new LeastLoadAffinityRule().Choose([Name(0), Name(1)], n => n, _ => 0, PromptAffinity.OfMessages([("user", o)])) == 1);

    /// <summary>Starts backend <paramref name="index"/> (again) on its port.</summary>
    public async Task StartAsync(int index)
    {
        if (_processes[index] is { } old)
        {
            await old.DisposeAsync();
        }

        var (model, id) = index < 2 ? (TestModels.Stories260KGqa, Tiny) : (TestModels.Stories260KOnnx, Other);
        _processes[index] = await ServeProcess.StartAsync($"serve --model \"{TestModels.Get(model)}\" --model-id {id} --port {_ports[index]} --api-key {Key} --no-ui");

        // One request first, so that the new process's first answers are not slowed by its start.
        using var http = Client(Urls[index]);
        Assert.NotNull((await CompleteAsync(http, "Once upon a time", model: id)).Text);
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }
    }

    /// <summary>A client of one backend or of the router, with a key.</summary>
    public static HttpClient Client(Uri url, string? key = Key)
    {
        var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(2) };
        if (key is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return http;
    }

    /// <summary>Posts a non-streamed greedy completion and returns the response with its text (or null on failure).</summary>
    public static async Task<(HttpResponseMessage Response, string? Text)> CompleteAsync(HttpClient http, string prompt, int maxTokens = 16, string model = Tiny)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object> { ["model"] = model, ["prompt"] = prompt, ["max_tokens"] = maxTokens, ["temperature"] = 0 });
        var response = await http.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        if (!response.IsSuccessStatusCode)
        {
            return (response, null);
        }

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response, json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    /// <summary>Posts a streamed greedy chat completion and returns the response, the concatenated delta text and the raw events.</summary>
    public static async Task<(HttpResponseMessage Response, string Text, List<string> Events)> StreamChatAsync(HttpClient http, IEnumerable<(string Role, string Content)> messages, int maxTokens = 16, string model = Tiny)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = model,
            ["messages"] = messages.Select(m => new Dictionary<string, string> { ["role"] = m.Role, ["content"] = m.Content }).ToArray(),
            ["max_tokens"] = maxTokens,
            ["temperature"] = 0,
            ["stream"] = true,
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = new List<string>();
        var text = new StringBuilder();
        if (!response.IsSuccessStatusCode)
        {
            return (response, string.Empty, events);
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line["data: ".Length..];
            events.Add(data);
            if (data == "[DONE]")
            {
                continue;
            }

            using var json = JsonDocument.Parse(data);
            if (json.RootElement.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                text.Append(content.GetString());
            }
        }

        return (response, text.ToString(), events);
    }

    /// <summary>The backend that answered: the <c>X-Infera-Backend</c> header.</summary>
    public static string? BackendOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Infera-Backend", out var values) ? values.Single() : null;
}

[CollectionDefinition(Name)]
public sealed class BackendsCollection : ICollectionFixture<Backends>
{
    public const string Name = "infera serve backends";
}
