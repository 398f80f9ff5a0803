using System.Text;
using System.Text.Json;

namespace Infera.Server.Tests;

/// <summary>
/// Over HTTP, streaming and not, sampled at temperature 1: a named <c>tool_choice</c> gives exactly one call with
/// <c>finish_reason</c> <c>tool_calls</c>; <c>parallel_tool_calls: false</c> at most one; a call cut by <c>max_tokens</c>
/// finishes with <c>length</c>, and tool-call markup never reaches <c>content</c>.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ForcedToolCallHttpTests(ServerFixture fixture)
{
    private const int Seeds = 10;

    private const string Tools = """
        [{"type":"function","function":{"name":"get_weather","description":"Gets the weather for a location","parameters":{"type":"object","properties":{"location":{"type":"string"},"unit":{"enum":["celsius","fahrenheit"]}},"required":["location"]}}},
         {"type":"function","function":{"name":"get_time","description":"Gets the time in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]
        """;

    private const string Named = """{"type":"function","function":{"name":"get_weather"}}""";

    [Theory]
    [InlineData(ServerFixture.Gqa, false)]
    [InlineData(ServerFixture.Gqa, true)]
    [InlineData(ServerFixture.Onnx, true)]
    public async Task Post_NamedToolChoice_ExactlyOneCallForEverySeed(string model, bool stream)
    {
        using var http = fixture.CreateClient();
        var complete = 0;
        for (var seed = 1; seed <= Seeds; seed++)
        {
            // No max_tokens: the reply may use the whole context.
            var reply = await PostAsync(http, model, Named, parallel: null, maxTokens: null, seed, stream);

            Assert.True(reply.Content.Length == 0, $"seed {seed}: content {reply.Content}");
            if (reply.FinishReason == "length")
            {
                // A free-text argument that the tiny model never closed: cut by the end of the context, and said so.
                Assert.Empty(reply.Calls);
                continue;
            }

            Assert.True(reply.FinishReason == "tool_calls" && reply.Calls.Count == 1, $"seed {seed}: {reply.Calls.Count} calls, finish {reply.FinishReason}");
            Assert.Equal("get_weather", reply.Calls[0].Name);
            Assert.True(JsonDocument.Parse(reply.Calls[0].Arguments).RootElement.TryGetProperty("location", out _), reply.Calls[0].Arguments);
            complete++;
        }

        Assert.True(complete >= Seeds * 3 / 4, $"{complete} of {Seeds} seeds gave a complete call");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_ParallelToolCallsFalse_AtMostOneCall(bool stream)
    {
        using var http = fixture.CreateClient();
        for (var seed = 1; seed <= Seeds; seed++)
        {
            var reply = await PostAsync(http, ServerFixture.Gqa, "\"required\"", parallel: false, maxTokens: 150, seed, stream);

            Assert.True(reply.Calls.Count <= 1, $"seed {seed}: {reply.Calls.Count} calls");
            Assert.True(reply.Content.Length == 0, $"seed {seed}: content {reply.Content}");
            Assert.Equal(reply.Calls.Count == 1 ? "tool_calls" : "length", reply.FinishReason);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_CallCutByMaxTokens_FinishesWithLengthAndNoMarkupInContent(bool stream)
    {
        using var http = fixture.CreateClient();
        for (var seed = 1; seed <= 6; seed++)
        {
            var reply = await PostAsync(http, ServerFixture.Gqa, Named, parallel: null, maxTokens: 4 + seed, seed, stream);

            Assert.Equal("length", reply.FinishReason);
            Assert.Empty(reply.Calls);
            Assert.True(reply.Content.Length == 0, $"seed {seed}: content {reply.Content}");
        }
    }

    private static async Task<Reply> PostAsync(HttpClient http, string model, string toolChoice, bool? parallel, int? maxTokens, int seed, bool stream)
    {
        var body = new StringBuilder();
        body.Append("{\"model\":\"").Append(model).Append("\",\"messages\":[{\"role\":\"user\",\"content\":\"What is the weather in Oslo?\"}],")
            .Append("\"tools\":").Append(Tools).Append(",\"tool_choice\":").Append(toolChoice)
            .Append(",\"temperature\":1,\"seed\":").Append(seed).Append(",\"stream\":").Append(stream ? "true" : "false");
        if (parallel is { } p)
        {
            body.Append(",\"parallel_tool_calls\":").Append(p ? "true" : "false");
        }

        if (maxTokens is { } m)
        {
            body.Append(",\"max_tokens\":").Append(m);
        }

        body.Append('}');
        using var response = await http.PostAsync("/v1/chat/completions", CompletionsTests.Json(body.ToString()));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return stream ? FromStream(text) : FromResponse(text);
    }

    private static Reply FromResponse(string text)
    {
        var choice = JsonDocument.Parse(text).RootElement.GetProperty("choices")[0];
        var message = choice.GetProperty("message");
        var calls = message.TryGetProperty("tool_calls", out var list)
            ? list.EnumerateArray().Select(c => new Call(c.GetProperty("function").GetProperty("name").GetString()!, c.GetProperty("function").GetProperty("arguments").GetString()!)).ToList()
            : [];
        var content = message.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : string.Empty;
        return new Reply(content, calls, choice.GetProperty("finish_reason").GetString()!);
    }

    private static Reply FromStream(string text)
    {
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var content = new StringBuilder();
        var names = new SortedDictionary<int, string>();
        var arguments = new SortedDictionary<int, StringBuilder>();
        string? finish = null;
        foreach (var e in events[..^1])
        {
            var chunk = JsonDocument.Parse(e["data: ".Length..]).RootElement;
            foreach (var choice in chunk.GetProperty("choices").EnumerateArray())
            {
                var delta = choice.GetProperty("delta");
                if (delta.TryGetProperty("content", out var piece) && piece.ValueKind == JsonValueKind.String)
                {
                    content.Append(piece.GetString());
                }

                if (delta.TryGetProperty("tool_calls", out var calls))
                {
                    foreach (var call in calls.EnumerateArray())
                    {
                        var index = call.GetProperty("index").GetInt32();
                        var function = call.GetProperty("function");
                        if (function.TryGetProperty("name", out var name))
                        {
                            names.Add(index, name.GetString()!);
                            arguments.Add(index, new StringBuilder());
                        }

                        arguments[index].Append(function.GetProperty("arguments").GetString());
                    }
                }

                if (choice.TryGetProperty("finish_reason", out var reason) && reason.ValueKind == JsonValueKind.String)
                {
                    finish = reason.GetString();
                }
            }
        }

        return new Reply(content.ToString(), names.Select(n => new Call(n.Value, arguments[n.Key].ToString())).ToList(), finish!);
    }

    private sealed record Call(string Name, string Arguments);

    private sealed record Reply(string Content, List<Call> Calls, string FinishReason);
}
