using Microsoft.Extensions.AI;

namespace Infera.StructuredOutput.Tests;

[Collection(ModelsCollection.Name)]
public sealed class FunctionInvocationLoopTests(ModelsFixture models)
{
    public static TheoryData<string> Models => [TestModels.Stories260KOnnx, TestModels.TinyRandomLlamaFp16];

    [Theory]
    [MemberData(nameof(Models))]
    public async Task UseFunctionInvocation_ForcedCall_RunsTheFunctionAndItsResultReachesTheNextPrompt(string model)
    {
        var (inner, recorder) = models.Client(model);
        var invocations = new List<bool>();
        var weather = AIFunctionFactory.Create(
            (bool metric) =>
            {
                invocations.Add(metric);
                return "sunny-42";
            },
            "get_weather",
            "Gets the weather");
        using var client = inner.AsBuilder().UseFunctionInvocation(configure: c => c.MaximumIterationsPerRequest = 3).Build();
        var options = new ChatOptions { Tools = [weather], ToolMode = ChatToolMode.RequireSpecific("get_weather"), MaxOutputTokens = 100, Temperature = 0f };

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "What is the weather?")], options);

        // The first request forces the call; the loop then asks again in Auto mode with the result in the prompt.
        Assert.NotEmpty(invocations);
        Assert.True(recorder.Requests.Count >= 2);
        Assert.StartsWith("start: calls\n", recorder.Requests[0].Options.Constraint?.Text, StringComparison.Ordinal);
        Assert.StartsWith("start: TEXT | calls\n", recorder.Requests[1].Options.Constraint?.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("sunny-42", recorder.Requests[0].Prompt, StringComparison.Ordinal);
        Assert.Contains("sunny-42", recorder.Requests[1].Prompt, StringComparison.Ordinal);
        Assert.Contains("get_weather", recorder.Requests[1].Prompt, StringComparison.Ordinal);
        var contents = response.Messages.SelectMany(m => m.Contents).ToArray();
        var calls = contents.OfType<FunctionCallContent>().ToArray();
        var results = contents.OfType<FunctionResultContent>().ToArray();
        Assert.Equal(invocations.Count, calls.Length);
        Assert.Equal(calls.Select(c => c.CallId), results.Select(r => r.CallId));
        Assert.Equal(invocations, calls.Select(c => Assert.IsType<System.Text.Json.JsonElement>(c.Arguments!["metric"]).GetBoolean()));
        Assert.All(results, r => Assert.Equal("sunny-42", r.Result?.ToString()));
    }
}
