namespace Infera.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class DisconnectTests(ServerFixture fixture)
{
    [Theory]
    [InlineData(ServerFixture.Gqa, "/v1/chat/completions", """{"model":"stories260K-gqa","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":480,"stream":true}""")]
    [InlineData(ServerFixture.Onnx, "/v1/completions", """{"model":"stories260K-onnx","prompt":"Once upon a time","max_tokens":480,"stream":true}""")]
    public async Task Stream_ClientDisconnectsAfterTheFirstChunk_RunnerFreesTheSlot(string model, string path, string body)
    {
        var runner = model == ServerFixture.Gqa ? fixture.GqaRunner : fixture.OnnxRunner;
        using (var http = fixture.CreateClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = CompletionsTests.Json(body) };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: {", await reader.ReadLineAsync(), StringComparison.Ordinal);
            Assert.Equal(1, runner.RunningRequests);

            // Leaving the block closes the connection mid-stream.
        }

        Assert.True(await Eventually.TrueAsync(() => runner.RunningRequests == 0, TimeSpan.FromSeconds(10)), $"RunningRequests stayed {runner.RunningRequests}.");
    }
}
