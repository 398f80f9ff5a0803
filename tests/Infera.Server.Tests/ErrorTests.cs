using System.Net;
using System.Text.Json;
using Infera.Tests;

namespace Infera.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ErrorTests(ServerFixture fixture)
{
    [Theory]
    [InlineData("/v1/chat/completions", "{\"model\":", "model")]
    [InlineData("/v1/chat/completions", "", null)]
    [InlineData("/v1/chat/completions", "{\"model\":\"stories260K-gqa\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"temperature\":\"hot\"}", "temperature")]
    [InlineData("/v1/chat/completions", "{\"model\":\"stories260K-gqa\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"temperature\":3}", "temperature")]
    [InlineData("/v1/chat/completions", "{\"model\":\"stories260K-gqa\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"top_p\":0}", "top_p")]
    [InlineData("/v1/chat/completions", "{\"model\":\"stories260K-gqa\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":0}", "max_tokens")]
    [InlineData("/v1/chat/completions", "{\"model\":\"stories260K-gqa\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_completion_tokens\":-1,\"stream\":true}", "max_completion_tokens")]
    [InlineData("/v1/chat/completions", "{\"model\":\"stories260K-gqa\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"presence_penalty\":5}", "presence_penalty")]
    [InlineData("/v1/chat/completions", "{\"model\":\"stories260K-gqa\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"n\":2}", "n")]
    [InlineData("/v1/chat/completions", "{\"model\":\"stories260K-gqa\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stop\":5}", "stop")]
    [InlineData("/v1/chat/completions", "{\"model\":\"stories260K-gqa\",\"messages\":[]}", "messages")]
    [InlineData("/v1/chat/completions", "{\"model\":\"stories260K-gqa\",\"messages\":[{\"role\":\"wizard\",\"content\":\"Hi\"}]}", "messages[0].role")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}", "model")]
    [InlineData("/v1/completions", "{\"model\":\"stories260K-gqa\",\"prompt\":\"Hi\",\"temperature\":-1}", "temperature")]
    [InlineData("/v1/completions", "{\"model\":\"stories260K-gqa\",\"prompt\":\"Hi\",\"n\":3}", "n")]
    [InlineData("/v1/completions", "{\"model\":\"stories260K-gqa\",\"prompt\":[\"a\",\"b\"]}", "prompt")]
    [InlineData("/v1/completions", "{\"model\":\"stories260K-gqa\"}", "prompt")]
    [InlineData("/v1/completions", "{\"model\":\"stories260K-gqa\",\"prompt\":[99999]}", "prompt")]
    public async Task Post_InvalidBody_Returns400WithTheField(string path, string body, string? param)
    {
        using var http = fixture.CreateClient();

        var error = await SendAsync(http, path, body, HttpStatusCode.BadRequest);

        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Post_PromptLongerThanTheContext_Returns400ContextLengthExceeded()
    {
        using var http = fixture.CreateClient();
        var prompt = string.Join(' ', Enumerable.Repeat("once upon a time", 400));

        var error = await SendAsync(http, "/v1/chat/completions", JsonSerializer.Serialize(new { model = ServerFixture.Gqa, messages = new[] { new { role = "user", content = prompt } } }), HttpStatusCode.BadRequest);

        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-key")]
    [InlineData("Basic dGVzdC1rZXktNmYxYzo=")]
    public async Task Post_MissingOrWrongApiKey_Returns401(string? authorization)
    {
        using var http = fixture.Server.CreateClient();
        if (authorization is not null)
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }

        var error = await SendAsync(http, "/v1/chat/completions", """{"model":"stories260K-gqa","messages":[{"role":"user","content":"Hi"}]}""", HttpStatusCode.Unauthorized);

        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        using var models = await http.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
    }

    [Fact]
    public async Task Post_UnknownModel_Returns404ModelNotFound()
    {
        using var http = fixture.CreateClient();

        var error = await SendAsync(http, "/v1/completions", """{"model":"gpt-4o","prompt":"Hi"}""", HttpStatusCode.NotFound);

        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
        using var get = await http.GetAsync("/v1/models/gpt-4o");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task Post_BodyOverFourMebibytes_Returns413()
    {
        using var http = fixture.CreateClient();
        var body = "{\"model\":\"stories260K-gqa\",\"prompt\":\"" + new string('a', 4 * 1024 * 1024) + "\"}";

        var error = await SendAsync(http, "/v1/completions", body, HttpStatusCode.RequestEntityTooLarge);

        Assert.Equal("request_too_large", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Post_ChunkedBodyOverTheLimit_Returns413()
    {
        using var http = fixture.CreateClient();
        var body = "{\"model\":\"stories260K-gqa\",\"prompt\":\"" + new string('a', 5 * 1024 * 1024) + "\"}";
        using var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body)));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Post_QueueFull_Returns429WithRetryAfter()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx), new OnnxModelRunnerOptions { MaxConcurrentRequests = 1, MaxQueuedRequests = 0 });
        await using var server = await InferaTestServer.StartAsync(options => options.AddModel(runner, "busy"));
        using var http = server.CreateClient();

        // Hold the only slot: a stream whose first chunk has arrived keeps generating (or waits on back-pressure) until it is closed.
        using var holding = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = CompletionsTests.Json("""{"model":"busy","prompt":"Once","max_tokens":500,"stream":true}""") };
        using var held = await http.SendAsync(holding, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        Assert.Equal(1, runner.RunningRequests);

        using var second = await http.PostAsync("/v1/chat/completions", CompletionsTests.Json("""{"model":"busy","messages":[{"role":"user","content":"Hi"}],"stream":true}"""));

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), second.Headers.RetryAfter?.Delta);
        var error = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Requests_WhileTheModelLoads_Return503UntilReady()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await InferaTestServer.StartAsync(options => options.AddModel("later", async (_, ct) =>
        {
            await release.Task.WaitAsync(ct);
            return await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KGqa), ct);
        }), waitUntilReady: false);
        using var http = server.CreateClient();

        using (var live = await http.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        using (var ready = await http.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        var error = await SendAsync(http, "/v1/completions", """{"model":"later","prompt":"Hi"}""", HttpStatusCode.ServiceUnavailable);
        Assert.Equal("model_not_ready", error.GetProperty("code").GetString());

        release.SetResult();
        var registry = (InferaModelRegistry)server.Services.GetService(typeof(InferaModelRegistry))!;
        await registry.WaitUntilReadyAsync().WaitAsync(TimeSpan.FromSeconds(30));
        using var afterwards = await http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, afterwards.StatusCode);
        using var completion = await http.PostAsync("/v1/completions", CompletionsTests.Json("""{"model":"later","prompt":"Hi","max_tokens":2}"""));
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
    }

    private static async Task<JsonElement> SendAsync(HttpClient http, string path, string body, HttpStatusCode expected)
    {
        using var response = await http.PostAsync(path, CompletionsTests.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.True(error.TryGetProperty("param", out _) && error.TryGetProperty("code", out _) && error.TryGetProperty("type", out _));
        return error;
    }
}
