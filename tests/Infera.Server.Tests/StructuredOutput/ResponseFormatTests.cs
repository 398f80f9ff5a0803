#pragma warning disable OPENAI001 // ChatCompletionOptions.Seed is marked experimental in the OpenAI client; the server honours it.

using System.ClientModel;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

namespace Infera.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ResponseFormatTests(ServerFixture fixture)
{
    private const string Schema = """
        {"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":120},"color":{"enum":["red","green","blue"]},"tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":2}},"required":["name","age","color"],"additionalProperties":false}
        """;

    private ChatClient OpenAIChat(string model) =>
        new(model, new ApiKeyCredential(ServerFixture.ApiKey), new OpenAIClientOptions { Endpoint = fixture.Server.V1 });

    [Theory]
    [InlineData(ServerFixture.Gqa)]
    [InlineData(ServerFixture.Onnx)]
    public async Task CompleteChat_JsonSchemaStrict_ReplyParsesAndValidatesForEverySeed(string model)
    {
        var client = OpenAIChat(model);
        for (var seed = 1; seed <= 4; seed++)
        {
            ChatCompletion completion = await client.CompleteChatAsync(
                [ChatMessage.CreateUserMessage("Describe a person.")],
                new ChatCompletionOptions
                {
                    ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(Schema), "A person", jsonSchemaIsStrict: true),
                    Temperature = 1f,
                    Seed = seed,
                    MaxOutputTokenCount = 120,
                });

            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            var node = JsonValidation.AssertValid(Schema, completion.Content[0].Text);
            Assert.Equal(JsonValueKind.String, node["name"]!.GetValueKind());
        }
    }

    [Fact]
    public async Task CompleteChatStreaming_JsonSchema_ConcatenatedReplyValidates()
    {
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in OpenAIChat(ServerFixture.Gqa).CompleteChatStreamingAsync(
            [ChatMessage.CreateUserMessage("Describe a person.")],
            new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("person", BinaryData.FromString(Schema)), Temperature = 0.8f, Seed = 7, MaxOutputTokenCount = 120 }))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(ChatFinishReason.Stop, finish);
        JsonValidation.AssertValid(Schema, text.ToString());
    }

    [Theory]
    [InlineData(ServerFixture.Gqa)]
    [InlineData(ServerFixture.Onnx)]
    public async Task CompleteChat_JsonObject_ReplyIsAJsonObject(string model)
    {
        ChatCompletion completion = await OpenAIChat(model).CompleteChatAsync(
            [ChatMessage.CreateUserMessage("Once upon a time")],
            new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat(), Temperature = 0, MaxOutputTokenCount = 60 });

        // A small model may not close an open-ended object within the limit; when it stops, the object is complete.
        if (completion.FinishReason == ChatFinishReason.Stop)
        {
            Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(completion.Content[0].Text).RootElement.ValueKind);
        }
        else
        {
            Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
            Assert.StartsWith("{", completion.Content[0].Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task CompleteChat_TextFormat_ReturnsTheGreedyText()
    {
        var expected = await ServerFixture.GreedyAsync(fixture.GqaRunner, "Once upon a time", 12);

        ChatCompletion completion = await OpenAIChat(ServerFixture.Gqa).CompleteChatAsync(
            [ChatMessage.CreateUserMessage("Once upon a time")],
            new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateTextFormat(), Temperature = 0, MaxOutputTokenCount = 12 });

        Assert.Equal(expected, completion.Content[0].Text);
    }

    [Fact]
    public async Task CompleteChat_SchemaTheCompilerRejects_Throws400()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => OpenAIChat(ServerFixture.Gqa).CompleteChatAsync(
            [ChatMessage.CreateUserMessage("Hi")],
            new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("bad", BinaryData.FromString("""{"type":"strin"}"""), jsonSchemaIsStrict: true), MaxOutputTokenCount = 10 }));

        Assert.Equal(400, ex.Status);
    }

    [Theory]
    [InlineData(false, """{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"strin"}}}""", "response_format")]
    [InlineData(true, """{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"strin"}}}""", "response_format")]
    [InlineData(false, """{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":5}}}""", "response_format")]
    [InlineData(true, """{"type":"json_schema","json_schema":{"name":"x","schema":{"$ref":"#/$defs/missing"}}}""", "response_format")]
    [InlineData(false, """{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"integer","minimum":"low"}}}""", "response_format")]
    [InlineData(false, """{"type":"json_schema","json_schema":{"name":"x","schema":"not a schema"}}""", "response_format.json_schema.schema")]
    [InlineData(false, """{"type":"json_schema","json_schema":{"schema":{"type":"object"}}}""", "response_format.json_schema.name")]
    [InlineData(false, """{"type":"json_schema"}""", "response_format.json_schema")]
    [InlineData(false, """{"type":"json_schema","json_schema":{"name":"x","strict":"yes","schema":{"type":"object"}}}""", "response_format.json_schema.strict")]
    [InlineData(false, """{"type":"xml"}""", "response_format.type")]
    [InlineData(false, "\"json\"", "response_format")]
    public async Task Post_InvalidResponseFormat_Returns400InOpenAIErrorShape(bool stream, string responseFormat, string param)
    {
        using var http = fixture.CreateClient();
        var body = $$"""{"model":"stories260K-gqa","messages":[{"role":"user","content":"Hi"}],"max_tokens":10,"stream":{{(stream ? "true" : "false")}},"response_format":{{responseFormat}}}""";

        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.True(error.TryGetProperty("code", out _));
    }
}
