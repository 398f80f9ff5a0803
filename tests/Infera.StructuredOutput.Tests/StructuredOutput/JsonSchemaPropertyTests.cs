using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.Extensions.AI;

namespace Infera.StructuredOutput.Tests;

[Collection(ModelsCollection.Name)]
public sealed class JsonSchemaPropertyTests(ModelsFixture models)
{
    public static TheoryData<string> Models => [.. ModelsFixture.Names];

    [Theory]
    [MemberData(nameof(Models))]
    public async Task GetResponseAsync_RandomBoundedSchema_ReplyParsesAndValidatesEveryTime(string model)
    {
        var (client, _) = models.Client(model);
        var gen = Gen.Select(Schemas.Object(depth: 1), Gen.Long, Gen.OneOf(Gen.Const(0f), Gen.Float[0.5f, 1.5f]));
        await gen.SampleAsync(
            async (schema, seed, temperature) =>
            {
                var schemaText = schema.ToJsonString();
                var options = new ChatOptions
                {
                    ResponseFormat = ChatResponseFormat.ForJsonSchema(Schemas.Element(schema), "reply"),
                    MaxOutputTokens = 300,
                    Seed = seed,
                    Temperature = temperature,
                };

                var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], options);

                Assert.True(response.FinishReason == ChatFinishReason.Stop, $"finish {response.FinishReason} for schema {schemaText}: {response.Text}");
                Assert.False(response.AdditionalProperties?.ContainsKey(InferaChatClient.IncompleteOutputKey) ?? false);
                Assert.True(Schemas.Validate(schemaText, response.Text, out var detail), $"'{response.Text}' does not validate against {schemaText}: {detail}");
                Assert.DoesNotContain('\n', response.Text);
            },
            iter: 12,
            threads: 1,
            print: t => $"{t.Item1.ToJsonString()} seed {t.Item2} temperature {t.Item3}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task GetResponseAsync_JsonObjectFormat_ReplyIsAJsonObjectOrReportedIncomplete(string model)
    {
        var (client, _) = models.Client(model);
        await Gen.Long.SampleAsync(
            async seed =>
            {
                var options = new ChatOptions { ResponseFormat = ChatResponseFormat.Json, MaxOutputTokens = 60, Seed = seed, Temperature = 1f };

                var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], options);

                if (response.FinishReason == ChatFinishReason.Length)
                {
                    // Any JSON object is unbounded: cut off, the reply must say so.
                    Assert.Equal(true, response.AdditionalProperties?[InferaChatClient.IncompleteOutputKey]);
                    Assert.StartsWith("{", response.Text, StringComparison.Ordinal);
                }
                else
                {
                    using var document = JsonDocument.Parse(response.Text);
                    Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
                }
            },
            iter: 6,
            threads: 1);
    }

    [Fact]
    public async Task GetResponseAsync_RegexConstraint_WholeReplyMatches()
    {
        var (client, _) = models.Client(TestModels.Stories260KOnnx);
        const string Pattern = "(yes|no), [0-9]{1,3} (cats|dogs)";
        await Gen.Long.SampleAsync(
            async seed =>
            {
                var options = new ChatOptions { MaxOutputTokens = 40, Seed = seed, Temperature = 1f, AdditionalProperties = new() { [InferaChatClient.RegexKey] = Pattern } };

                var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], options);

                Assert.Matches("^" + Pattern + "$", response.Text);
            },
            iter: 6,
            threads: 1);
    }

    [Fact]
    public async Task GetResponseAsync_LarkGrammar_ReplyFollowsTheGrammar()
    {
        var (client, _) = models.Client(TestModels.TinyRandomLlamaFp16);
        const string Grammar = "start: \"color=\" COLOR (\",\" COLOR)?\nCOLOR: \"red\" | \"green\" | \"blue\"\n";
        var options = new ChatOptions { MaxOutputTokens = 20, Seed = 7, Temperature = 1f, AdditionalProperties = new() { [InferaChatClient.LarkGrammarKey] = Grammar } };

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Pick colors")], options);

        Assert.Matches("^color=(red|green|blue)(,(red|green|blue))?$", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_InvalidSchema_ThrowsBeforeAnyUpdate()
    {
        var (client, _) = models.Client(TestModels.Stories260KOnnx);
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonDocument.Parse("{\"type\": \"strin\"}").RootElement) };
        var updates = 0;

        var ex = await Assert.ThrowsAsync<ConstraintCompilationException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Once")], options))
            {
                updates++;
            }
        });

        Assert.Equal(0, updates);
        Assert.Contains("strin", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("The JSON Schema constraint is invalid", ex.Message, StringComparison.Ordinal);
        Assert.Equal(DecodingConstraintKind.JsonSchema, ex.Constraint?.Kind);
    }

    [Fact]
    public async Task GetResponseAsync_InvalidLarkGrammar_ThrowsNamingTheProblem()
    {
        var (client, _) = models.Client(TestModels.Stories260KOnnx);
        var options = new ChatOptions { AdditionalProperties = new() { [InferaChatClient.LarkGrammarKey] = "start: \"a\" missing_rule" } };

        var ex = await Assert.ThrowsAsync<ConstraintCompilationException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once")], options));

        Assert.Contains("missing_rule", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_SchemaThatIsNotJson_ThrowsBeforeTheRunnerIsCalled()
    {
        var (client, recorder) = models.Client(TestModels.Stories260KOnnx);
        var options = new ChatOptions { AdditionalProperties = new() { [InferaChatClient.JsonSchemaKey] = "{\"type\": " } };

        var ex = await Assert.ThrowsAsync<ConstraintCompilationException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once")], options));

        Assert.Contains("not valid JSON", ex.Message, StringComparison.Ordinal);
        Assert.Empty(recorder.Requests);
    }

    [Fact]
    public async Task GetResponseAsync_CutOffByTokenLimit_FinishesWithLengthAndSaysIncomplete()
    {
        var (client, _) = models.Client(TestModels.Stories260KOnnx);
        var schema = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["story"] = new JsonObject { ["type"] = "string" } }, ["required"] = new JsonArray("story") };
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(Schemas.Element(schema)), MaxOutputTokens = 8, Temperature = 0f };

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], options);

        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(true, response.AdditionalProperties?[InferaChatClient.IncompleteOutputKey]);
        Assert.StartsWith("{\"story\":\"", response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_SchemaWithOwnGuidanceOptions_KeepsThem()
    {
        var (client, _) = models.Client(TestModels.Stories260KOnnx);
        var schema = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject { ["ok"] = new JsonObject { ["type"] = "boolean" } },
            ["required"] = new JsonArray("ok"),
            ["additionalProperties"] = false,
            ["x-guidance"] = new JsonObject { ["whitespace_flexible"] = false, ["key_separator"] = ": " },
        };
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(Schemas.Element(schema)), MaxOutputTokens = 20, Temperature = 0f };

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], options);

        Assert.Matches("^\\{\"ok\": (true|false)\\}$", response.Text);
    }
}
