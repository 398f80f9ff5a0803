using System.ClientModel;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using ChatMessage = OpenAI.Chat.ChatMessage;

namespace Infera.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ChatCompletionsTests(ServerFixture fixture)
{
    private const string Prompt = "Once upon a time";

    private ChatClient OpenAIChat(string model) =>
        new(model, new ApiKeyCredential(ServerFixture.ApiKey), new OpenAIClientOptions { Endpoint = fixture.Server.V1 });

    [Theory]
    [InlineData(ServerFixture.Gqa)]
    [InlineData(ServerFixture.Onnx)]
    public async Task CompleteChat_OpenAIClient_ReturnsGreedyTextAndUsage(string model)
    {
        var runner = model == ServerFixture.Gqa ? fixture.GqaRunner : fixture.OnnxRunner;
        var expected = await ServerFixture.GreedyAsync(runner, Prompt, 20);

        ChatCompletion completion = await OpenAIChat(model).CompleteChatAsync(
            [ChatMessage.CreateUserMessage(Prompt)],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 20 });

        Assert.Equal(expected, completion.Content[0].Text);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(model, completion.Model);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.Equal(20, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 1);
        Assert.Equal(completion.Usage.InputTokenCount + 20, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task CompleteChatStreaming_OpenAIClient_ConcatenatesToGreedyTextWithUsage()
    {
        var expected = await ServerFixture.GreedyAsync(fixture.GqaRunner, Prompt, 20);
        var text = new StringBuilder();
        OpenAI.Chat.ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in OpenAIChat(ServerFixture.Gqa).CompleteChatStreamingAsync(
            [ChatMessage.CreateUserMessage(Prompt)],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 20 }))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(expected, text.ToString());
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Length, finish);
        Assert.NotNull(usage);
        Assert.Equal(20, usage.OutputTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_MicrosoftExtensionsAIClient_ReturnsGreedyText()
    {
        var expected = await ServerFixture.GreedyAsync(fixture.GqaRunner, Prompt, 16);
        using var client = OpenAIChat(ServerFixture.Gqa).AsIChatClient();

        var response = await client.GetResponseAsync(Prompt, new ChatOptions { Temperature = 0, MaxOutputTokens = 16 });

        Assert.Equal(expected, response.Text);
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(16, response.Usage?.OutputTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_MicrosoftExtensionsAIClientWithStop_StopsBeforeTheStopString()
    {
        var full = await ServerFixture.GreedyAsync(fixture.GqaRunner, Prompt, 40);
        var stop = full.Substring(full.Length / 2, 3);
        var expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];
        using var client = OpenAIChat(ServerFixture.Gqa).AsIChatClient();

        var response = await client.GetStreamingResponseAsync(Prompt, new ChatOptions { Temperature = 0, MaxOutputTokens = 40, StopSequences = [stop] }).ToChatResponseAsync();

        Assert.Equal(expected, response.Text);
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Stop, response.FinishReason);
    }

    [Theory]
    [InlineData(ServerFixture.Gqa)]
    [InlineData(ServerFixture.Onnx)]
    public async Task Post_SamePromptTwice_SecondReportsCachedTokensAndSameText(string model)
    {
        using var http = fixture.CreateClient();
        var body = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"system\",\"content\":\"Lily and Ben went to the park to play with their dog.\"},{\"role\":\"user\",\"content\":\"What did they see in the big tree?\"}],\"temperature\":0,\"max_tokens\":8}";

        async Task<(string Text, int Prompt, int Cached)> PostAsync()
        {
            using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
            var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            var usage = root.GetProperty("usage");
            return (root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!, usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        }

        var first = await PostAsync();
        var second = await PostAsync();

        Assert.Equal(first.Text, second.Text);
        Assert.Equal(first.Prompt, second.Prompt);
        Assert.Equal(second.Prompt - 1, second.Cached);
    }

    [Fact]
    public async Task PostStream_RawHttp_SendsOpenAIChunksUsageAndDone()
    {
        using var http = fixture.CreateClient();
        var body = """{"model":"stories260K-gqa","messages":[{"role":"user","content":[{"type":"text","text":"Once upon a time"}]}],"temperature":0,"max_tokens":8,"stream":true,"stream_options":{"include_usage":true},"user":"someone","seed":3}""";
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.All(events, e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var finishing = chunks[^2].GetProperty("choices")[0];
        Assert.Equal("length", finishing.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, finishing.GetProperty("logprobs").ValueKind);
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal(8, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        var text = string.Concat(chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Select(c => c.GetProperty("delta").TryGetProperty("content", out var content) ? content.GetString() : null));
        Assert.Equal(await ServerFixture.GreedyAsync(fixture.GqaRunner, "Once upon a time", 8), text);
    }

    [Fact]
    public async Task Post_RawHttp_ReturnsChatCompletionShape()
    {
        using var http = fixture.CreateClient();
        var body = """{"model":"stories260K-gqa","messages":[{"role":"user","content":"Once upon a time"}],"max_completion_tokens":5,"temperature":0,"n":1}""";
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.True(root.GetProperty("created").GetInt64() > 1_700_000_000);
        var choice = root.GetProperty("choices")[0];
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(5, root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }
}
