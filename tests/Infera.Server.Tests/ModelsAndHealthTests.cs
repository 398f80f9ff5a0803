using System.Net;
using System.Text.Json;
using OpenAI;
using OpenAI.Models;

namespace Infera.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ModelsAndHealthTests(ServerFixture fixture)
{
    [Fact]
    public async Task GetModels_OpenAIClient_ListsBothModels()
    {
        var client = new OpenAIModelClient(new System.ClientModel.ApiKeyCredential(ServerFixture.ApiKey), new OpenAIClientOptions { Endpoint = fixture.Server.V1 });

        OpenAIModelCollection models = await client.GetModelsAsync();
        OpenAIModel one = await client.GetModelAsync(ServerFixture.Onnx);

        Assert.Equal([ServerFixture.Gqa, ServerFixture.Onnx], models.Select(m => m.Id).ToArray());
        Assert.Equal(ServerFixture.Onnx, one.Id);
        Assert.Equal("infera", one.OwnedBy);
    }

    [Fact]
    public async Task GetHealth_WithoutKey_ReportsLiveAndReady()
    {
        using var http = fixture.Server.CreateClient();

        using var live = await http.GetAsync("/health");
        using var ready = await http.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var models = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("models");
        Assert.Equal(2, models.GetArrayLength());
    }

    [Fact]
    public async Task GetMetrics_AfterARequest_ServesPrometheusText()
    {
        using var http = fixture.CreateClient();
        using (var completion = await http.PostAsync("/v1/completions", CompletionsTests.Json("""{"model":"stories260K-gqa","prompt":"Hi","max_tokens":2}""")))
        {
            completion.EnsureSuccessStatusCode();
        }

        using var metrics = await fixture.Server.CreateClient().GetAsync("/metrics");
        var text = await metrics.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal("text/plain", metrics.Content.Headers.ContentType?.MediaType);
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("http_route=\"/v1/completions\"", text, StringComparison.Ordinal);
    }
}
