using System.Text;
using System.Text.Json;

namespace Infera.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class CompletionsTests(ServerFixture fixture)
{
    [Theory]
    [InlineData(ServerFixture.Gqa)]
    [InlineData(ServerFixture.Onnx)]
    public async Task Post_TextPrompt_ReturnsGreedyTextCompletion(string model)
    {
        var runner = model == ServerFixture.Gqa ? fixture.GqaRunner : fixture.OnnxRunner;
        using var http = fixture.CreateClient();

        var root = await PostAsync(http, $$"""{"model":"{{model}}","prompt":"Lily went","max_tokens":12,"temperature":0}""");

        Assert.Equal("text_completion", root.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", root.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(model, root.GetProperty("model").GetString());
        var choice = root.GetProperty("choices")[0];
        Assert.Equal(await ServerFixture.GreedyAsync(runner, "Lily went", 12), choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(12, root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Post_NoMaxTokens_GeneratesSixteenTokens()
    {
        using var http = fixture.CreateClient();

        var root = await PostAsync(http, """{"model":"stories260K-gqa","prompt":"Once upon a time","temperature":0}""");

        Assert.Equal(16, root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Post_MaxTokensBeyondContext_IsCappedAndFinishesWithLength()
    {
        using var http = fixture.CreateClient();

        // Token-id prompt; the end-of-sequence ids (1, 2) are banned so that generation runs to the end of the context.
        var chat = await PostAsync(http, """{"model":"stories260K-gqa","messages":[{"role":"user","content":"Once"}],"max_tokens":100000,"temperature":0,"logit_bias":{"1":-100,"2":-100}}""", "/v1/chat/completions");
        var completion = await PostAsync(http, """{"model":"stories260K-gqa","prompt":[1, 403, 407],"max_tokens":100000,"temperature":0}""");

        Assert.Equal(fixture.GqaRunner.Metadata.ContextLength, chat.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal("length", chat.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(3, completion.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.InRange(completion.GetProperty("usage").GetProperty("total_tokens").GetInt32(), 4, fixture.GqaRunner.Metadata.ContextLength);
    }

    [Fact]
    public async Task Post_StopList_CutsAtTheEarliestStopString()
    {
        var full = await ServerFixture.GreedyAsync(fixture.GqaRunner, "Once upon a time", 40);
        var stop = full.Substring(20, 4);
        using var http = fixture.CreateClient();

        var root = await PostAsync(http, JsonSerializer.Serialize(new { model = ServerFixture.Gqa, prompt = new[] { "Once upon a time" }, max_tokens = 40, temperature = 0, stop = new[] { "zzzz", stop } }));

        var choice = root.GetProperty("choices")[0];
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task PostStream_ConcatenatedChunksEqualTheNonStreamingText()
    {
        using var http = fixture.CreateClient();
        var expected = await ServerFixture.GreedyAsync(fixture.OnnxRunner, "The dog", 10);

        using var response = await http.PostAsync("/v1/completions", Json("""{"model":"stories260K-onnx","prompt":"The dog","max_tokens":10,"temperature":0,"stream":true,"stream_options":{"include_usage":true},"stop":"zzz"}"""));
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        Assert.Equal(expected, string.Concat(chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray()).Select(c => c.GetProperty("text").GetString())));
        Assert.Equal("length", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(10, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Post_SameSeed_GivesTheSameSampledText()
    {
        using var http = fixture.CreateClient();
        const string Body = """{"model":"stories260K-gqa","prompt":"Once","max_tokens":20,"temperature":1.0,"top_p":0.9,"seed":42}""";

        var first = (await PostAsync(http, Body)).GetProperty("choices")[0].GetProperty("text").GetString();
        var second = (await PostAsync(http, Body)).GetProperty("choices")[0].GetProperty("text").GetString();

        Assert.Equal(first, second);
    }

    internal static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> PostAsync(HttpClient http, string body, string path = "/v1/completions")
    {
        using var response = await http.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement;
    }
}
