using System.Net;
using System.Text.Json;
using Infera.Tests;

namespace Infera.Server.Tests;

/// <summary>Ollama's wire format over raw HTTP: what clients rarely exercise but rely on.</summary>
[Collection(OllamaCollection.Name)]
public sealed class OllamaHttpTests(OllamaFixture fixture)
{
    [Fact]
    public async Task Chat_Streaming_NdjsonLinesEndWithDoneAndPositiveDurations()
    {
        using var http = fixture.CreateClient();
        using var response = await http.PostAsync("/api/chat", CompletionsTests.Json("""{"model":"stories","messages":[{"role":"user","content":"Once upon a time"}],"options":{"temperature":0,"num_predict":16}}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("\n", body, StringComparison.Ordinal);
        var lines = body.TrimEnd('\n').Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(lines.Count > 2, body);
        Assert.All(lines[..^1], l =>
        {
            Assert.False(l.GetProperty("done").GetBoolean());
            Assert.Equal("assistant", l.GetProperty("message").GetProperty("role").GetString());
            Assert.Equal("stories:latest", l.GetProperty("model").GetString());
            Assert.True(DateTimeOffset.TryParse(l.GetProperty("created_at").GetString(), out _));
        });
        var last = lines[^1];
        Assert.True(last.GetProperty("done").GetBoolean());
        Assert.Equal("length", last.GetProperty("done_reason").GetString());
        Assert.Equal(16, last.GetProperty("eval_count").GetInt32());
        Assert.True(last.GetProperty("prompt_eval_count").GetInt32() > 0);
        var total = last.GetProperty("total_duration").GetInt64();
        var load = last.GetProperty("load_duration").GetInt64();
        var prompt = last.GetProperty("prompt_eval_duration").GetInt64();
        var eval = last.GetProperty("eval_duration").GetInt64();
        Assert.True(load > 0 && prompt > 0 && eval > 0, last.ToString());
        Assert.True(total >= load + prompt + eval, last.ToString());
        Assert.True(total < 60_000_000_000L, "durations are nanoseconds: " + total);
    }

    [Fact]
    public async Task Generate_StreamFalse_OneJsonObjectWithTheWholeText()
    {
        using var http = fixture.CreateClient();
        using var response = await http.PostAsync("/api/generate", CompletionsTests.Json("""{"model":"stories","prompt":"Once upon a time","raw":true,"stream":false,"options":{"temperature":0,"num_predict":40}}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(body.GetProperty("done").GetBoolean());
        var golden = TestModels.Golden("golden-once-upon-a-time.txt");
        Assert.StartsWith("Once upon a time" + body.GetProperty("response").GetString(), golden, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_RepeatedRawPrompt_PromptEvalCountCountsOnlyComputedTokens()
    {
        using var http = fixture.CreateClient();
        const string Body = """{"model":"stories","prompt":"Tom had a small red boat and a big green frog. The frog liked the boat.","raw":true,"stream":false,"options":{"temperature":0,"num_predict":8}}""";

        async Task<int> PromptEvalCountAsync()
        {
            using var response = await http.PostAsync("/api/generate", CompletionsTests.Json(Body));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("prompt_eval_count").GetInt32();
        }

        var first = await PromptEvalCountAsync();
        var second = await PromptEvalCountAsync();

        // The second request continues the first one's kept prefix: only the tokens after it are computed.
        Assert.True(first > 10, $"first: {first}");
        Assert.True(second < first / 2, $"first: {first}, second: {second}");
    }

    [Theory]
    [InlineData("/api/chat", """{"model":"nope","messages":[{"role":"user","content":"Hi"}]}""")]
    [InlineData("/api/generate", """{"model":"nope:7b","prompt":"Hi"}""")]
    [InlineData("/api/show", """{"model":"nope"}""")]
    [InlineData("/api/embed", """{"model":"nope","input":"Hi"}""")]
    public async Task UnknownModel_Returns404WithAnErrorObject(string path, string body)
    {
        var error = await ErrorAsync(path, body, HttpStatusCode.NotFound);

        Assert.Contains("not found", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/chat", "this is not json", "")]
    [InlineData("/api/chat", "", "")]
    [InlineData("/api/chat", """{"model":"stories","messages":[{"role":"user","content":"Hi"}],"stream":"yes"}""", "stream")]
    [InlineData("/api/chat", """{"model":"stories","messages":"Hi"}""", "messages")]
    [InlineData("/api/chat", """{"model":"stories","messages":[{"role":"user","content":"Hi"}],"options":{"temperature":"hot"}}""", "options.temperature")]
    [InlineData("/api/chat", """{"model":"stories","messages":[{"role":"user","content":"Hi"}],"options":{"temperature":5}}""", "options.temperature")]
    [InlineData("/api/chat", """{"model":"stories","messages":[{"role":"user","content":"Hi"}],"keep_alive":"forever"}""", "keep_alive")]
    [InlineData("/api/chat", """{"model":"stories","messages":[{"role":"wizard","content":"Hi"}]}""", "messages[0].role")]
    [InlineData("/api/chat", """{"model":"stories","messages":[{"role":"user","content":"Hi"}],"format":42}""", "format")]
    [InlineData("/api/generate", """{"model":"stories","prompt":"Hi","options":{"num_predict":"many"}}""", "options.num_predict")]
    [InlineData("/api/generate", """{"model":"stories","prompt":"Hi","images":["aGk="]}""", "images")]
    [InlineData("/api/generate", """{"model":"stories","prompt":"Hi","template":"{{ range .Messages }}{{ end }}"}""", "template")]
    [InlineData("/api/generate", """{"prompt":"Hi"}""", "model")]
    public async Task MalformedOrWrongTypedBody_Returns400NamingTheField(string path, string body, string field)
    {
        var error = await ErrorAsync(path, body, HttpStatusCode.BadRequest);

        Assert.Contains(field, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_PromptOverNumCtx_Returns400ThatSaysHowToOptIn()
    {
        var prompt = string.Join(' ', Enumerable.Repeat("Once upon a time there was a little girl.", 12));
        var body = $$"""{"model":"stories","messages":[{"role":"user","content":"{{prompt}}"}],"options":{"num_ctx":64,"num_predict":8}""";

        var error = await ErrorAsync("/api/chat", body + "}", HttpStatusCode.BadRequest);
        Assert.Contains("num_ctx", error, StringComparison.Ordinal);
        Assert.Contains("\"truncate\": true", error, StringComparison.Ordinal);

        using var http = fixture.CreateClient();
        using var truncated = await http.PostAsync("/api/chat", CompletionsTests.Json(body + ""","truncate":true,"stream":false}"""));
        var reply = JsonDocument.Parse(await truncated.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, truncated.StatusCode);
        Assert.Equal(8, reply.GetProperty("eval_count").GetInt32());
        // num_ctx 64 less num_predict 8 leaves 56 prompt tokens. prompt_eval_count counts those computed: the first few
        // (BOS, the chat template's start) may continue a generator another request left in the prefix cache.
        Assert.InRange(reply.GetProperty("prompt_eval_count").GetInt32(), 48, 56);
    }

    [Fact]
    public async Task Embed_TextGenerationModel_Returns400SayingSo()
    {
        var error = await ErrorAsync("/api/embed", """{"model":"stories","input":["Hi"]}""", HttpStatusCode.BadRequest);
        Assert.Contains("does not support embeddings", error, StringComparison.Ordinal);

        error = await ErrorAsync("/api/embeddings", """{"model":"stories","prompt":"Hi"}""", HttpStatusCode.BadRequest);
        Assert.Contains("does not support embeddings", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_FormatJson_ReplyIsAJsonObject()
    {
        using var http = fixture.CreateClient();
        using var response = await http.PostAsync("/api/chat", CompletionsTests.Json("""{"model":"stories","messages":[{"role":"user","content":"Once upon a time"}],"format":"json","stream":false,"options":{"num_predict":48,"temperature":0}}"""));

        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var content = body.GetProperty("message").GetProperty("content").GetString()!;
        if (body.GetProperty("done_reason").GetString() == "stop")
        {
            Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(content).RootElement.ValueKind);
        }
        else
        {
            Assert.StartsWith("{", content, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Chat_ToolCallHistoryWithObjectArguments_IsAccepted()
    {
        using var http = fixture.CreateClient();
        using var response = await http.PostAsync("/api/chat", CompletionsTests.Json("""
            {"model":"stories","stream":false,"options":{"num_predict":4},
             "tools":[{"type":"function","function":{"name":"weather","description":"Weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
             "messages":[{"role":"user","content":"Weather in Paris?"},
                         {"role":"assistant","content":"","tool_calls":[{"function":{"name":"weather","arguments":{"city":"Paris"}}}]},
                         {"role":"tool","tool_name":"weather","content":"sunny"}]}
            """));

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Generate_EmptyPrompt_LoadsThenKeepAliveZeroUnloads()
    {
        using var http = fixture.CreateClient();
        using (var load = await http.PostAsync("/api/generate", CompletionsTests.Json("""{"model":"stories-onnx","stream":false}""")))
        {
            var body = JsonDocument.Parse(await load.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("load", body.GetProperty("done_reason").GetString());
        }

        Assert.Contains("stories-onnx:latest", await RunningAsync(http));

        using (var unload = await http.PostAsync("/api/generate", CompletionsTests.Json("""{"model":"stories-onnx","keep_alive":0,"stream":false}""")))
        {
            var body = JsonDocument.Parse(await unload.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("unload", body.GetProperty("done_reason").GetString());
        }

        Assert.DoesNotContain("stories-onnx:latest", await RunningAsync(http));
    }

    [Fact]
    public async Task Generate_ErrorAfterStreamingBegan_EndsWithAnErrorLine()
    {
        // The runner fails only once the client holds the first line, so the response has begun (tokens that came
        // faster than the stream's flushes would otherwise fail before any byte was sent: a plain 500).
        var real = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KGqa));
        var firstLineRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var failing = new FailingRunner(real, failAfter: 3, firstLineRead.Task);
        await using var server = await InferaTestServer.StartAsync(options => options.AddModel(failing, "failing"));
        using var http = server.CreateClient();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/generate") { Content = CompletionsTests.Json("""{"model":"failing","prompt":"Once upon a time","raw":true,"options":{"num_predict":20}}""") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync();
        firstLineRead.SetResult();
        var rest = await reader.ReadToEndAsync();
        var lines = new[] { first! }.Concat(rest.TrimEnd('\n').Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(lines.Count >= 2);
        Assert.False(lines[0].GetProperty("done").GetBoolean());
        Assert.False(string.IsNullOrEmpty(lines[^1].GetProperty("error").GetString()));
        await real.DisposeAsync();
    }

    internal static async Task<List<string>> RunningAsync(HttpClient http)
    {
        var ps = JsonDocument.Parse(await http.GetStringAsync("/api/ps")).RootElement.GetProperty("models");
        return [.. ps.EnumerateArray().Select(m => m.GetProperty("name").GetString()!)];
    }

    private async Task<string> ErrorAsync(string path, string body, HttpStatusCode expected)
    {
        using var http = fixture.CreateClient();
        using var response = await http.PostAsync(path, CompletionsTests.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString();
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error!;
    }

    /// <summary>A runner that streams a few real tokens, then fails as a crashed backend would.</summary>
    /// <summary>Passes <paramref name="failAfter"/> tokens on, then fails once <paramref name="release"/> completes.</summary>
    private sealed class FailingRunner(IModelRunner inner, int failAfter, Task release) : IModelRunner
    {
        public ModelMetadata Metadata => inner.Metadata;

        public ITokenizer Tokenizer => inner.Tokenizer;

        public async IAsyncEnumerable<TokenUpdate> GenerateAsync(GenerationRequest request, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var count = 0;
            await foreach (var update in inner.GenerateAsync(request, cancellationToken))
            {
                yield return update;
                if (++count == failAfter)
                {
                    await release.WaitAsync(cancellationToken);
                    throw new InvalidOperationException("the backend stopped");
                }
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        public void Dispose()
        {
        }
    }
}
