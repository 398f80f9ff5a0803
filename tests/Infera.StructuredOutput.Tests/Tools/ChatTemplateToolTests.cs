using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Infera.StructuredOutput.Tests;

/// <summary>Tools through a real chat template: tiny-random-llama with a Qwen 2.5-style template (which renders <c>tools</c>) put into a copy of its folder.</summary>
public sealed class ChatTemplateToolTests : IAsyncLifetime
{
    private static readonly AIFunctionDeclaration Weather = AIFunctionFactory.CreateDeclaration(
        "get_weather",
        "Gets the weather",
        JsonDocument.Parse("{\"type\":\"object\",\"properties\":{\"city\":{\"enum\":[\"Paris\",\"Oslo\"]}},\"required\":[\"city\"]}").RootElement);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "infera-qwen-template-" + Guid.NewGuid().ToString("N"));
    private OnnxModelRunner _runner = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        var source = TestModels.Get(TestModels.TinyRandomLlamaFp16);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(_folder, Path.GetFileName(file)));
        }

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(_folder, "tokenizer_config.json")))!.AsObject();
        config["chat_template"] = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Templates", "qwen2.5.jinja"));
        File.WriteAllText(Path.Combine(_folder, "tokenizer_config.json"), config.ToJsonString());
        _runner = await OnnxModelRunner.LoadAsync(_folder);
    }

    public async Task DisposeAsync()
    {
        await _runner.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task GetResponseAsync_TemplateWithTools_RendersToolsCallsAndResultsThroughTheTemplate()
    {
        var recorder = new RecordingRunner(_runner);
        using var client = new InferaChatClient(recorder);
        ChatMessage[] conversation =
        [
            new(ChatRole.User, "Weather in Paris?"),
            new(ChatRole.Assistant, [new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" })]),
            new(ChatRole.Tool, [new FunctionResultContent("call_1", "sunny-42")]),
        ];

        await client.GetResponseAsync(conversation, new ChatOptions { Tools = [Weather], MaxOutputTokens = 5, Temperature = 0f });

        var prompt = recorder.Requests[0].Prompt!;
        Assert.StartsWith("<|im_start|>system\nYou are a helpful assistant.\n\n# Tools", prompt, StringComparison.Ordinal);
        Assert.Matches("<tools>\\n\\{\"type\": ?\"function\", ?\"function\": ?\\{\"name\": ?\"get_weather\"", prompt);
        Assert.Contains("<|im_start|>user\nWeather in Paris?<|im_end|>", prompt, StringComparison.Ordinal);
        Assert.Matches("<\\|im_start\\|>assistant\\n<tool_call>\\n\\{\"name\": \"get_weather\", \"arguments\": \\{\"city\": ?\"Paris\"\\}\\}\\n</tool_call><\\|im_end\\|>", prompt);
        Assert.Contains("<|im_start|>user\n<tool_response>\nsunny-42\n</tool_response><|im_end|>", prompt, StringComparison.Ordinal);
        Assert.EndsWith("<|im_start|>assistant\n", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_RequireAnyWithTemplate_DetectsHermesAndReturnsAValidCall()
    {
        using var client = new InferaChatClient(_runner);

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Weather?")], new ChatOptions { Tools = [Weather], ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = false, MaxOutputTokens = 60, Temperature = 0f });

        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
        Assert.Contains(((JsonElement)call.Arguments!["city"]!).GetString(), new[] { "Paris", "Oslo" });
        Assert.StartsWith("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": ", (string)call.RawRepresentation!, StringComparison.Ordinal);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }
}
