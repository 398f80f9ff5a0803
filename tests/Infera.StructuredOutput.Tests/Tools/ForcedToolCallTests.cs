using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Infera.StructuredOutput.Tests;

/// <summary>
/// A named tool choice gives exactly one call and ends; <c>AllowMultipleToolCalls = false</c> gives one call at most; a call
/// cut by the token limit is reported as cut, never as text. Sampled at temperature 1 over many seeds on stories260K, whose
/// replies wander: without the grammar ending after one call, some seeds call again and again until the context is full.
/// </summary>
[Collection(ModelsCollection.Name)]
public sealed class ForcedToolCallTests(ModelsFixture models)
{
    private const int Seeds = 20;

    private static readonly AIFunctionDeclaration Weather = AIFunctionFactory.CreateDeclaration(
        "get_weather",
        "Gets the weather for a location",
        JsonElement.Parse("""{"type":"object","properties":{"location":{"type":"string"},"unit":{"enum":["celsius","fahrenheit"]}},"required":["location"]}"""));

    private static readonly AIFunctionDeclaration Time = AIFunctionFactory.CreateDeclaration(
        "get_time",
        "Gets the time in a city",
        JsonElement.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));

    public static TheoryData<string> Stories => [TestModels.Stories260KGqa, TestModels.Stories260KOnnx];

    [Theory]
    [MemberData(nameof(Stories))]
    public async Task GetStreamingResponseAsync_NamedToolChoice_ExactlyOneCallForEverySeed(string model)
    {
        var (client, _) = models.Client(model);
        var complete = 0;
        for (var seed = 1; seed <= Seeds; seed++)
        {
            // No token limit: the reply may use the whole context.
            var options = new ChatOptions { Tools = [Weather, Time], ToolMode = ChatToolMode.RequireSpecific("get_weather"), Temperature = 1f, Seed = seed };

            var updates = await CollectAsync(client, options);

            complete += AssertOneCallOrReportedCut(updates, "get_weather", seed);
        }

        // A free-text argument that a tiny model never closes runs to the end of the context, reported as such;
        // most seeds close it.
        Assert.True(complete >= Seeds * 3 / 4, $"{complete} of {Seeds} seeds gave a complete call");
    }

    [Theory]
    [InlineData("required")]
    [InlineData("auto")]
    public async Task GetResponseAsync_ParallelCallsOff_AtMostOneCallForEverySeed(string mode)
    {
        var (client, _) = models.Client(TestModels.Stories260KGqa);
        for (var seed = 1; seed <= Seeds; seed++)
        {
            var options = new ChatOptions
            {
                Tools = [Weather, Time],
                ToolMode = mode == "required" ? ChatToolMode.RequireAny : ChatToolMode.Auto,
                AllowMultipleToolCalls = false,
                Temperature = 1f,
                Seed = seed,
            };

            var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "What is the weather in Oslo?")], options);

            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToArray();
            Assert.True(calls.Length <= 1, $"seed {seed}: {calls.Length} calls");
            Assert.DoesNotContain("<tool_call", response.Text, StringComparison.Ordinal);
            if (calls.Length == 1)
            {
                Assert.True(response.FinishReason == ChatFinishReason.ToolCalls, $"seed {seed}: one call, finish {response.FinishReason}");
                Assert.Empty(response.Text);
            }
            else if (mode == "required")
            {
                // The only other outcome: the call was cut by the end of the context, and said so.
                Assert.Equal(ChatFinishReason.Length, response.FinishReason);
                Assert.Empty(response.Text);
                Assert.Equal(true, response.AdditionalProperties?[InferaChatClient.IncompleteOutputKey]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Stories))]
    public async Task GetStreamingResponseAsync_CallCutByTheTokenLimit_ReportedAsLengthWithoutMarkupInTheText(string model)
    {
        var (client, _) = models.Client(model);
        for (var seed = 1; seed <= 10; seed++)
        {
            // Too few tokens for "<tool_call>\n{"name": "get_weather", "arguments": {"location": ...}}\n</tool_call>".
            var options = new ChatOptions { Tools = [Weather], ToolMode = ChatToolMode.RequireSpecific("get_weather"), Temperature = 1f, Seed = seed, MaxOutputTokens = 3 + seed };

            var updates = await CollectAsync(client, options);

            var last = updates[^1];
            Assert.Equal(ChatFinishReason.Length, last.FinishReason);
            Assert.Empty(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
            Assert.Empty(updates.SelectMany(u => u.Contents).OfType<TextContent>());
            Assert.Equal(true, last.AdditionalProperties?[InferaChatClient.IncompleteOutputKey]);
            Assert.Contains("cut off", (string)last.AdditionalProperties![InferaChatClient.ToolCallErrorKey]!, StringComparison.Ordinal);
        }
    }

    /// <summary>Exactly one call of the tool, finishing with tool calls; or, when its arguments ran to the token limit, no call, no text, and the cut reported. Never two calls. Returns 1 for a complete call.</summary>
    private static int AssertOneCallOrReportedCut(List<ChatResponseUpdate> updates, string name, int seed)
    {
        var last = updates[^1];
        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToArray();
        var text = string.Concat(updates.SelectMany(u => u.Contents).OfType<TextContent>().Select(t => t.Text));
        Assert.True(text.Length == 0, $"seed {seed}: text {text}");
        if (last.FinishReason == ChatFinishReason.Length)
        {
            Assert.True(calls.Length == 0, $"seed {seed}: {calls.Length} calls and then the token limit");
            Assert.Equal(true, last.AdditionalProperties?[InferaChatClient.IncompleteOutputKey]);
            Assert.Contains("cut off", (string)last.AdditionalProperties![InferaChatClient.ToolCallErrorKey]!, StringComparison.Ordinal);
            return 0;
        }

        Assert.True(calls.Length == 1 && last.FinishReason == ChatFinishReason.ToolCalls, $"seed {seed}: {calls.Length} calls, finish {last.FinishReason}");
        Assert.Equal(name, calls[0].Name);
        Assert.True(calls[0].Arguments?.ContainsKey("location"), $"seed {seed}: arguments without location");
        return 1;
    }

    private static async Task<List<ChatResponseUpdate>> CollectAsync(IChatClient client, ChatOptions options)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "What is the weather in Oslo?")], options))
        {
            updates.Add(update);
        }

        return updates;
    }
}
