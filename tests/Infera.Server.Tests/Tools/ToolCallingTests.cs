#pragma warning disable OPENAI001 // ChatCompletionOptions.Seed is marked experimental in the OpenAI client; the server honours it.

using System.ClientModel;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;
using ChatMessage = OpenAI.Chat.ChatMessage;

namespace Infera.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ToolCallingTests(ServerFixture fixture)
{
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"enum":["Paris","Oslo","Lima"]},"days":{"type":"integer","minimum":1,"maximum":7}},"required":["city","days"]}""";
    private const string LookupSchema = """{"type":"object","properties":{"word":{"type":"string","maxLength":8}},"required":["word"]}""";

    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool("get_weather", "Gets the weather forecast", BinaryData.FromString(WeatherSchema), functionSchemaIsStrict: true);
    private static readonly ChatTool Lookup = ChatTool.CreateFunctionTool("lookup", "Looks a word up", BinaryData.FromString(LookupSchema));

    private ChatClient OpenAIChat(string model) =>
        new(model, new ApiKeyCredential(ServerFixture.ApiKey), new OpenAIClientOptions { Endpoint = fixture.Server.V1 });

    private static ChatCompletionOptions Options(ChatToolChoice choice, long seed) => new()
    {
        Tools = { Weather, Lookup },
        ToolChoice = choice,
        AllowParallelToolCalls = false,
        Temperature = 1f,
        Seed = seed,
        MaxOutputTokenCount = 100,
    };

    private static string SchemaOf(string name) => name == "get_weather" ? WeatherSchema : LookupSchema;

    [Theory]
    [InlineData(ServerFixture.Gqa)]
    [InlineData(ServerFixture.Onnx)]
    public async Task CompleteChat_ToolChoiceRequired_ReturnsOneValidCallForEverySeed(string model)
    {
        var client = OpenAIChat(model);
        for (var seed = 1; seed <= 4; seed++)
        {
            ChatCompletion completion = await client.CompleteChatAsync([ChatMessage.CreateUserMessage("What is the weather in Oslo?")], Options(ChatToolChoice.CreateRequiredChoice(), seed));

            Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
            var call = Assert.Single(completion.ToolCalls);
            Assert.Contains(call.FunctionName, new[] { "get_weather", "lookup" });
            Assert.StartsWith("call_", call.Id, StringComparison.Ordinal);
            JsonValidation.AssertValid(SchemaOf(call.FunctionName), call.FunctionArguments.ToString());
            Assert.Empty(completion.Content);
        }
    }

    [Theory]
    [InlineData(ServerFixture.Gqa, "lookup")]
    [InlineData(ServerFixture.Gqa, "get_weather")]
    [InlineData(ServerFixture.Onnx, "lookup")]
    public async Task CompleteChat_NamedToolChoice_CallsThatToolForEverySeed(string model, string name)
    {
        var client = OpenAIChat(model);
        for (var seed = 1; seed <= 3; seed++)
        {
            ChatCompletion completion = await client.CompleteChatAsync([ChatMessage.CreateUserMessage("Hi")], Options(ChatToolChoice.CreateFunctionChoice(name), seed));

            Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
            var call = Assert.Single(completion.ToolCalls);
            Assert.Equal(name, call.FunctionName);
            JsonValidation.AssertValid(SchemaOf(name), call.FunctionArguments.ToString());
        }
    }

    [Fact]
    public async Task CompleteChat_ToolChoiceNone_RepliesWithTextAndNoCalls()
    {
        ChatCompletion completion = await OpenAIChat(ServerFixture.Gqa).CompleteChatAsync(
            [ChatMessage.CreateUserMessage("Once upon a time")],
            new ChatCompletionOptions { Tools = { Weather }, ToolChoice = ChatToolChoice.CreateNoneChoice(), Temperature = 0, MaxOutputTokenCount = 12 });

        Assert.Empty(completion.ToolCalls);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
    }

    [Theory]
    [InlineData(ServerFixture.Gqa)]
    [InlineData(ServerFixture.Onnx)]
    public async Task CompleteChatStreaming_ToolChoiceRequired_ToolCallUpdatesReassembleIntoAValidCall(string model)
    {
        var ids = new Dictionary<int, string>();
        var names = new Dictionary<int, string>();
        var arguments = new Dictionary<int, StringBuilder>();
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in OpenAIChat(model).CompleteChatStreamingAsync([ChatMessage.CreateUserMessage("Weather?")], Options(ChatToolChoice.CreateFunctionChoice("get_weather"), 11)))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            foreach (var call in update.ToolCallUpdates)
            {
                if (call.ToolCallId is { } id)
                {
                    ids.Add(call.Index, id);
                }

                if (call.FunctionName is { } name)
                {
                    names.Add(call.Index, name);
                }

                if (call.FunctionArgumentsUpdate is { } piece && !piece.IsEmpty)
                {
                    (arguments.TryGetValue(call.Index, out var sb) ? sb : arguments[call.Index] = new StringBuilder()).Append(piece.ToString());
                }
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal(0, Assert.Single(ids).Key);
        Assert.StartsWith("call_", ids[0], StringComparison.Ordinal);
        Assert.Equal("get_weather", names[0]);
        JsonValidation.AssertValid(WeatherSchema, arguments[0].ToString());
        Assert.Equal(string.Empty, text.ToString());
    }

    [Fact]
    public async Task CompleteChatStreaming_ParallelToolCalls_EveryCallHasItsOwnIndexAndValidArguments()
    {
        var counts = new List<int>();
        for (var seed = 1; seed <= 6; seed++)
        {
            var options = Options(ChatToolChoice.CreateRequiredChoice(), seed);
            options.AllowParallelToolCalls = true;
            options.MaxOutputTokenCount = 200;
            var calls = new SortedDictionary<int, (string Id, string Name, StringBuilder Arguments)>();
            await foreach (var update in OpenAIChat(ServerFixture.Gqa).CompleteChatStreamingAsync([ChatMessage.CreateUserMessage("Weather?")], options))
            {
                foreach (var call in update.ToolCallUpdates)
                {
                    if (call.ToolCallId is { } id)
                    {
                        calls.Add(call.Index, (id, call.FunctionName, new StringBuilder()));
                    }

                    calls[call.Index].Arguments.Append(call.FunctionArgumentsUpdate?.ToString());
                }
            }

            // The model may keep calling until the limit; each streamed call is complete and valid.
            Assert.NotEmpty(calls);
            Assert.Equal(Enumerable.Range(0, calls.Count), calls.Keys);
            Assert.Equal(calls.Count, calls.Values.Select(c => c.Id).Distinct().Count());
            Assert.All(calls.Values, c => JsonValidation.AssertValid(SchemaOf(c.Name), c.Arguments.ToString()));
            counts.Add(calls.Count);
        }

        Assert.True(counts.Max() > 1, "calls per reply: " + string.Join(", ", counts));
    }

    [Fact]
    public async Task CompleteChat_RoundTripWithToolMessage_ResultReachesThePrompt()
    {
        var client = OpenAIChat(ServerFixture.Gqa);
        List<ChatMessage> conversation = [ChatMessage.CreateUserMessage("What is the weather in Lima?")];
        // One tool, so that the conversation fits stories260K's 512-token context.
        var options = new ChatCompletionOptions { Tools = { Weather }, ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather"), AllowParallelToolCalls = false, Temperature = 0, MaxOutputTokenCount = 100 };
        ChatCompletion first = await client.CompleteChatAsync(conversation, options);
        var call = Assert.Single(first.ToolCalls);
        conversation.Add(new AssistantChatMessage(first));

        async Task<ChatCompletion> AnswerAsync(string result)
        {
            ChatCompletion reply = await client.CompleteChatAsync(
                [.. conversation, ChatMessage.CreateToolMessage(call.Id, result)],
                new ChatCompletionOptions { Tools = { Weather }, Temperature = 0, MaxOutputTokenCount = 8 });
            Assert.Contains(reply.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length, ChatFinishReason.ToolCalls });
            return reply;
        }

        var brief = await AnswerAsync("sunny");
        var longer = await AnswerAsync("sunny with a light breeze");

        // The assistant's call and the tool's result are both in the prompt: it is longer than the user's message alone, and grows with the result.
        Assert.True(brief.Usage.InputTokenCount > first.Usage.InputTokenCount + 5, $"{brief.Usage.InputTokenCount} vs {first.Usage.InputTokenCount}");
        Assert.True(longer.Usage.InputTokenCount > brief.Usage.InputTokenCount + 5, $"{longer.Usage.InputTokenCount} vs {brief.Usage.InputTokenCount}");
    }

    [Theory]
    [InlineData(ServerFixture.Gqa)]
    [InlineData(ServerFixture.Onnx)]
    public async Task GetResponseAsync_UseFunctionInvocationOverHttp_RunsTheToolAndSendsItsResultBack(string model)
    {
        var invoked = new List<string>();
        var lookup = AIFunctionFactory.Create(
            (string word) =>
            {
                invoked.Add(word);
                return "a small furry animal";
            },
            "lookup",
            "Looks a word up");
        using var client = OpenAIChat(model).AsIChatClient().AsBuilder().UseFunctionInvocation(configure: c => c.MaximumIterationsPerRequest = 2).Build();

        var response = await client.GetResponseAsync(
            "What is a cat?",
            new ChatOptions { Tools = [lookup], ToolMode = ChatToolMode.RequireSpecific("lookup"), AllowMultipleToolCalls = false, Temperature = 0, MaxOutputTokens = 100 });

        Assert.NotEmpty(invoked);
        var contents = response.Messages.SelectMany(m => m.Contents).ToList();
        var calls = contents.OfType<FunctionCallContent>().ToList();
        var results = contents.OfType<FunctionResultContent>().ToList();
        Assert.Equal(invoked.Count, calls.Count);
        Assert.Equal(calls.Select(c => c.CallId), results.Select(r => r.CallId));
        Assert.All(calls, c => Assert.Equal("lookup", c.Name));
        Assert.All(results, r => Assert.Equal("a small furry animal", r.Result?.ToString()));
    }

    [Fact]
    public async Task Post_ToolChoiceRequired_RawHttp_MessageHasOpenAIToolCallsShape()
    {
        using var http = fixture.CreateClient();
        var body = """{"model":"stories260K-gqa","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":""" + WeatherSchema + """}}],"tool_choice":"required","parallel_tool_calls":false,"max_tokens":100,"seed":3}""";

        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        response.EnsureSuccessStatusCode();
        var choice = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.Equal(["id", "type", "function"], call.EnumerateObject().Select(p => p.Name));
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.String, call.GetProperty("function").GetProperty("arguments").ValueKind);
        JsonValidation.AssertValid(WeatherSchema, call.GetProperty("function").GetProperty("arguments").GetString()!);
    }

    [Fact]
    public async Task PostStream_NamedToolChoice_RawHttp_SendsToolCallDeltasAsOpenAIDefinesThem()
    {
        using var http = fixture.CreateClient();
        var body = """{"model":"stories260K-gqa","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"lookup","description":"Looks a word up","parameters":""" + LookupSchema + """}}],"tool_choice":{"type":"function","function":{"name":"lookup"}},"max_tokens":100,"seed":4,"stream":true}""";

        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var choices = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices")[0]).ToList();
        var deltas = choices.Where(c => c.GetProperty("delta").TryGetProperty("tool_calls", out _)).Select(c => Assert.Single(c.GetProperty("delta").GetProperty("tool_calls").EnumerateArray())).ToList();
        Assert.True(deltas.Count >= 2);
        Assert.All(deltas, d => Assert.Equal(0, d.GetProperty("index").GetInt32()));

        // The first delta of a call: index, id, type and the function's name with empty arguments; then only index and argument pieces.
        var head = deltas[0];
        Assert.StartsWith("call_", head.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("function", head.GetProperty("type").GetString());
        Assert.Equal("lookup", head.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal(string.Empty, head.GetProperty("function").GetProperty("arguments").GetString());
        Assert.All(deltas.Skip(1), d => Assert.Equal(["index", "function"], d.EnumerateObject().Select(p => p.Name)));
        var arguments = string.Concat(deltas.Select(d => d.GetProperty("function").GetProperty("arguments").GetString()));
        JsonValidation.AssertValid(LookupSchema, arguments);
        Assert.Equal("tool_calls", choices[^1].GetProperty("finish_reason").GetString());
        Assert.DoesNotContain(choices, c => c.GetProperty("delta").TryGetProperty("content", out var content) && content.GetString() is { Length: > 0 });
    }

    [Theory]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}""", "tool_choice.function.name")]
    [InlineData(""","tool_choice":"required" """, "tool_choice")]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes" """, "tool_choice")]
    [InlineData(""","tools":[{"type":"retrieval"}]""", "tools[0].type")]
    [InlineData(""","tools":{"type":"function"}""", "tools")]
    [InlineData(""","tools":[{"type":"function","function":{"name":"bad name"}}]""", "tools[0].function.name")]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}]""", "tools[1].function.name")]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f","parameters":"x"}}]""", "tools[0].function.parameters")]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"strin"}}}}}],"tool_choice":"required" """, "tools")]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f"}}],"parallel_tool_calls":"yes" """, "parallel_tool_calls")]
    public async Task Post_InvalidTools_Returns400InOpenAIErrorShape(string fields, string param)
    {
        using var http = fixture.CreateClient();
        var body = """{"model":"stories260K-gqa","messages":[{"role":"user","content":"Hi"}],"max_tokens":10""" + fields + "}";

        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertBadRequestAsync(response, param);
    }

    [Theory]
    [InlineData("""[{"role":"user","content":"Hi"},{"role":"tool","tool_call_id":"call_1","content":"x"}]""", "messages[1].tool_call_id")]
    [InlineData("""[{"role":"user","content":"Hi"},{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"x"}]""", "messages[2].tool_call_id")]
    [InlineData("""[{"role":"user","content":"Hi"},{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{not json"}}]}]""", "messages[1].tool_calls[0].function.arguments")]
    [InlineData("""[{"role":"user","content":"Hi"},{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]""", "messages[1].tool_calls[0].id")]
    [InlineData("""[{"role":"user","content":"Hi"},{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1"}]""", "messages[2].content")]
    public async Task Post_InvalidToolMessages_Returns400InOpenAIErrorShape(string messages, string param)
    {
        using var http = fixture.CreateClient();
        var body = """{"model":"stories260K-gqa","max_tokens":10,"messages":""" + messages + "}";

        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertBadRequestAsync(response, param);
    }

    private static async Task AssertBadRequestAsync(HttpResponseMessage response, string param)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
    }
}
