using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.Extensions.AI;

namespace Infera.StructuredOutput.Tests;

[Collection(ModelsCollection.Name)]
public sealed class ToolCallingPropertyTests(ModelsFixture models)
{
    public static TheoryData<string> Models => [.. ModelsFixture.Names];

    /// <summary>One to three tools with random bounded schemas; fewer and smaller for the stories models, whose context is 512 tokens.</summary>
    private static Gen<(AIFunctionDeclaration[] Tools, JsonObject[] Schemas)> ToolsGen(string model)
    {
        var small = model != TestModels.TinyRandomLlamaFp16;
        return Gen.Int[1, small ? 2 : 3].SelectMany(count => Schemas.Object(depth: 0, maxProperties: small ? 3 - count : 3).Array[count]).Select(schemas =>
        {
            var tools = schemas.Select((schema, i) => AIFunctionFactory.CreateDeclaration("tool_" + (char)('a' + i), null, Schemas.Element(schema))).ToArray();
            return (tools, schemas);
        });
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task GetResponseAsync_RequireAny_OneCallOfAKnownToolWithValidArgumentsEveryTime(string model)
    {
        var (client, _) = models.Client(model);
        await Gen.Select(ToolsGen(model), Gen.Long, Gen.Float[0.6f, 1.4f]).SampleAsync(
            async (tools, seed, temperature) =>
            {
                var options = new ChatOptions
                {
                    Tools = [.. tools.Tools],
                    ToolMode = ChatToolMode.RequireAny,
                    AllowMultipleToolCalls = false,
                    MaxOutputTokens = 100,
                    Seed = seed,
                    Temperature = temperature,
                };

                var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options);

                Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
                var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
                AssertValid(call, tools.Tools, tools.Schemas);
                Assert.Empty(response.Text);
            },
            iter: 8,
            threads: 1,
            print: t => string.Join(" ", t.Item1.Schemas.Select(s => s.ToJsonString())) + $" seed {t.Item2}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task GetResponseAsync_RequireSpecific_CallsOnlyThatToolEveryTime(string model)
    {
        var (client, _) = models.Client(model);
        await Gen.Select(ToolsGen(model), Gen.Long).SampleAsync(
            async (tools, seed) =>
            {
                var target = tools.Tools[^1].Name;
                var options = new ChatOptions
                {
                    Tools = [.. tools.Tools],
                    ToolMode = ChatToolMode.RequireSpecific(target),
                    AllowMultipleToolCalls = false,
                    MaxOutputTokens = 100,
                    Seed = seed,
                    Temperature = 1f,
                };

                var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options);

                var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
                Assert.Equal(target, call.Name);
                AssertValid(call, tools.Tools, tools.Schemas);
            },
            iter: 6,
            threads: 1);
    }

    [Theory]
    [InlineData("hermes")]
    [InlineData("mistral")]
    [InlineData("phi4")]
    [InlineData("llama3_json")]
    public async Task GetStreamingResponseAsync_ParallelCallsInEachFormat_CompleteCallsValidateAndACutOffIsReported(string format)
    {
        const string Model = TestModels.Stories260KGqa;
        var (client, _) = models.Client(Model);
        await Gen.Select(ToolsGen(Model), Gen.Long).SampleAsync(
            async (tools, seed) =>
            {
                var options = new ChatOptions
                {
                    Tools = [.. tools.Tools],
                    ToolMode = ChatToolMode.RequireAny,
                    MaxOutputTokens = 110,
                    Seed = seed,
                    Temperature = 1f,
                    AdditionalProperties = new() { [InferaChatClient.ToolCallFormatKey] = format },
                };

                var updates = new List<ChatResponseUpdate>();
                await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options))
                {
                    updates.Add(update);
                }

                var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToArray();
                var last = updates[^1];
                Assert.All(calls, call => AssertValid(call, tools.Tools, tools.Schemas));
                if (last.FinishReason == ChatFinishReason.Length)
                {
                    Assert.Equal(true, last.AdditionalProperties?[InferaChatClient.IncompleteOutputKey]);
                    Assert.NotNull(last.AdditionalProperties?[InferaChatClient.ToolCallErrorKey]);

                    // The cut-off call is dropped, never passed on as text.
                    Assert.Empty(updates.SelectMany(u => u.Contents).OfType<TextContent>());
                }
                else
                {
                    Assert.Equal(ChatFinishReason.ToolCalls, last.FinishReason);
                    Assert.NotEmpty(calls);
                    Assert.Empty(updates.SelectMany(u => u.Contents).OfType<TextContent>());
                }

                if (format == "llama3_json")
                {
                    Assert.True(calls.Length <= 1);
                }

                // Streaming: each call arrives whole, in an update of its own, before the last update.
                Assert.All(updates.Take(updates.Count - 1).Where(u => u.Contents.OfType<FunctionCallContent>().Any()), u => Assert.Single(u.Contents));
            },
            iter: 4,
            threads: 1);
    }

    [Fact]
    public async Task GetResponseAsync_TokenLimitRightAfterACompleteCall_IsToolCallsNotACutOff()
    {
        // The same seeded reply under growing token limits: the smallest limit that holds a call ends exactly where the
        // call does, so the limit is reached with nothing cut off.
        var (client, _) = models.Client(TestModels.Stories260KGqa);
        var tool = AIFunctionFactory.CreateDeclaration("get_weather", null, JsonDocument.Parse("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":6}},\"required\":[\"city\"],\"additionalProperties\":false}").RootElement);
        ChatResponse? previous = null;
        for (int limit = 1; limit <= 100; limit++)
        {
            var options = new ChatOptions { Tools = [tool], ToolMode = ChatToolMode.RequireAny, MaxOutputTokens = limit, Seed = 7, Temperature = 1f };
            var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options);
            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToArray();
            if (calls.Length == 0)
            {
                previous = response;
                continue;
            }

            Assert.Equal(limit, response.Usage?.OutputTokenCount);
            Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
            Assert.Null(response.AdditionalProperties?.GetValueOrDefault(InferaChatClient.IncompleteOutputKey));
            Assert.Equal("get_weather", Assert.Single(calls).Name);

            // One token less: the call is cut off, dropped and reported.
            Assert.NotNull(previous);
            Assert.Equal(ChatFinishReason.Length, previous.FinishReason);
            Assert.Equal(true, previous.AdditionalProperties?[InferaChatClient.IncompleteOutputKey]);
            return;
        }

        Assert.Fail("No limit up to 100 tokens held a complete call.");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task GetResponseAsync_Auto_IsTextWithoutCallOpenerOrValidCalls(string model)
    {
        var (client, _) = models.Client(model);
        await Gen.Select(ToolsGen(model), Gen.Long).SampleAsync(
            async (tools, seed) =>
            {
                var options = new ChatOptions { Tools = [.. tools.Tools], MaxOutputTokens = 40, Seed = seed, Temperature = 1f };

                var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options);

                var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToArray();
                Assert.DoesNotContain("<tool_call>", response.Text, StringComparison.Ordinal);
                Assert.All(calls, call => AssertValid(call, tools.Tools, tools.Schemas));
            },
            iter: 4,
            threads: 1);
    }

    [Fact]
    public async Task GetResponseAsync_ToolModeNone_GivesTextAndNoCalls()
    {
        var (client, recorder) = models.Client(TestModels.Stories260KOnnx);
        var tool = AIFunctionFactory.CreateDeclaration("get_time", null, JsonDocument.Parse("{\"type\":\"object\",\"properties\":{}}").RootElement);
        var options = new ChatOptions { Tools = [tool], ToolMode = ChatToolMode.None, MaxOutputTokens = 20, Temperature = 0f };

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], options);

        Assert.Empty(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.NotEmpty(response.Text);
        Assert.Null(recorder.Requests[0].Options.Constraint);
        Assert.DoesNotContain("get_time", recorder.Requests[0].Prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_RequireSpecificUnknownTool_ThrowsNamingTheTools()
    {
        var (client, _) = models.Client(TestModels.Stories260KOnnx);
        var tool = AIFunctionFactory.CreateDeclaration("get_time", null, JsonDocument.Parse("{\"type\":\"object\"}").RootElement);
        var options = new ChatOptions { Tools = [tool], ToolMode = ChatToolMode.RequireSpecific("get_weather") };

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], options));

        Assert.Contains("get_weather", ex.Message, StringComparison.Ordinal);
        Assert.Contains("get_time", ex.Message, StringComparison.Ordinal);
    }

    private static void AssertValid(FunctionCallContent call, AIFunctionDeclaration[] tools, JsonObject[] schemas)
    {
        var index = Array.FindIndex(tools, t => t.Name == call.Name);
        Assert.True(index >= 0, $"unknown tool {call.Name}");
        Assert.NotNull(call.Arguments);
        var arguments = new JsonObject();
        foreach (var (key, value) in call.Arguments)
        {
            arguments[key] = JsonNode.Parse(((JsonElement)value!).GetRawText());
        }

        var json = arguments.ToJsonString();
        Assert.True(Schemas.Validate(schemas[index].ToJsonString(), json, out var detail), $"{call.Name}({json}) does not validate against {schemas[index].ToJsonString()}: {detail}");
        Assert.False(string.IsNullOrEmpty(call.CallId));
        Assert.NotNull(call.RawRepresentation);
    }
}
