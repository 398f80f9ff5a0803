using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Infera.Server.Tests;

/// <summary>
/// Every field of both OpenAI endpoints, with wrong JSON types (walked from the request contracts, so a new field is
/// covered or this fails), values out of range and wrong shapes, against the real server: each is a 400 in OpenAI's
/// error shape naming the field, never a 500.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class RequestValidationTests(ServerFixture fixture)
{
    private const string Chat = "/v1/chat/completions";
    private const string Completions = "/v1/completions";

    // Valid requests that set every field; sampling extras and constraints cannot be combined, hence two for chat.
    private const string ChatSampling = """
        {"model":"stories260K-gqa",
         "messages":[{"role":"system","content":"You tell stories.","name":"teller"},{"role":"user","content":[{"type":"text","text":"Once upon a time"}]}],
         "temperature":1,"top_p":0.9,"max_tokens":3,"stop":["\n\n"],"seed":7,"frequency_penalty":0.5,"presence_penalty":0.5,"n":1,
         "stream":false,"user":"u1","logprobs":false,"top_logprobs":0,"logit_bias":{"5":1.5},"top_k":40,"min_p":0.05,"repetition_penalty":1.1,
         "store":false,"metadata":{"k":"v"},"service_tier":"auto"}
        """;

    private const string ChatTools = """
        {"model":"stories260K-gqa",
         "messages":[
           {"role":"user","content":"Weather?"},
           {"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
           {"role":"tool","tool_call_id":"call_1","content":"Sunny"},
           {"role":"user","content":"Thanks"}],
         "max_completion_tokens":3,"stream":true,"stream_options":{"include_usage":true},
         "response_format":{"type":"json_schema","json_schema":{"name":"reply","description":"A reply","schema":{"type":"object"},"strict":true}},
         "tools":[{"type":"function","function":{"name":"get_weather","description":"Gets the weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":false}}],
         "tool_choice":"auto","parallel_tool_calls":false}
        """;

    private const string Completion = """
        {"model":"stories260K-gqa","prompt":"Once upon a time","suffix":null,"max_tokens":3,"temperature":1,"top_p":0.9,"n":1,"best_of":1,
         "stream":true,"stream_options":{"include_usage":true},"logprobs":0,"echo":false,"stop":["\n\n"],"presence_penalty":0.5,"frequency_penalty":0.5,
         "seed":7,"user":"u1","logit_bias":{"5":1.5},"top_k":40,"min_p":0.05,"repetition_penalty":1.1}
        """;

    public static TheoryData<string, string> Bases => new()
    {
        { Chat, ChatSampling },
        { Chat, ChatTools },
        { Completions, Completion },
    };

    /// <summary>Values out of range, wrong shapes and values the server cannot honour: (endpoint, base, path, value or "-" to remove, expected param).</summary>
    public static TheoryData<string, string, string, string, string?> Cases => new()
    {
        // Sampling numbers out of range.
        { Chat, ChatSampling, "temperature", "2.5", "temperature" },
        { Chat, ChatSampling, "temperature", "-0.1", "temperature" },
        { Chat, ChatSampling, "top_p", "0", "top_p" },
        { Chat, ChatSampling, "top_p", "1.01", "top_p" },
        { Chat, ChatSampling, "max_tokens", "0", "max_tokens" },
        { Chat, ChatSampling, "max_tokens", "1.5", "max_tokens" },
        { Chat, ChatSampling, "max_tokens", "10000000000", "max_tokens" },
        { Chat, ChatTools, "max_completion_tokens", "-1", "max_completion_tokens" },
        { Chat, ChatSampling, "seed", "1.5", "seed" },
        { Chat, ChatSampling, "seed", "1e30", "seed" },
        { Chat, ChatSampling, "frequency_penalty", "2.1", "frequency_penalty" },
        { Chat, ChatSampling, "presence_penalty", "-3", "presence_penalty" },
        { Chat, ChatSampling, "presence_penalty", "1e39", "presence_penalty" },
        { Chat, ChatSampling, "n", "0", "n" },
        { Chat, ChatSampling, "n", "2", "n" },
        { Chat, ChatSampling, "logprobs", "true", "logprobs" },
        { Chat, ChatSampling, "top_logprobs", "21", "top_logprobs" },
        { Chat, ChatSampling, "top_logprobs", "3", "top_logprobs" },
        { Chat, ChatSampling, "top_k", "-2", "top_k" },
        { Chat, ChatSampling, "min_p", "1.5", "min_p" },
        { Chat, ChatSampling, "min_p", "\"x\"", "min_p" },
        { Chat, ChatSampling, "repetition_penalty", "0", "repetition_penalty" },
        { Chat, ChatSampling, "logit_bias", "{\"abc\":5}", "logit_bias.abc" },
        { Chat, ChatSampling, "logit_bias", "{\"-1\":5}", "logit_bias['-1']" },
        { Chat, ChatSampling, "logit_bias", "{\"5\":\"x\"}", "logit_bias.5" },
        { Chat, ChatSampling, "logit_bias", "{\"5\":101}", "logit_bias.5" },
        { Chat, ChatSampling, "logit_bias", "{\"5\":[1]}", "logit_bias.5" },
        { Chat, ChatSampling, "logit_bias", "{\"99999\":1}", "logit_bias" },
        { Chat, ChatSampling, "logit_bias", "[1]", "logit_bias" },
        { Chat, ChatSampling, "stop", "5", "stop" },
        { Chat, ChatSampling, "stop", "[\"a\",5]", "stop[1]" },
        { Chat, ChatSampling, "stop", "{}", "stop" },
        { Chat, ChatSampling, "stream_options", "{\"include_usage\":true}", "stream_options" },

        // Model and messages.
        { Chat, ChatSampling, "model", "\"\"", "model" },
        { Chat, ChatSampling, "model", "-", "model" },
        { Chat, ChatSampling, "messages", "[]", "messages" },
        { Chat, ChatSampling, "messages", "-", "messages" },
        { Chat, ChatSampling, "messages[1]", "null", "messages[1]" },
        { Chat, ChatSampling, "messages[1].role", "\"wizard\"", "messages[1].role" },
        { Chat, ChatSampling, "messages[1].role", "-", "messages[1].role" },
        { Chat, ChatSampling, "messages[1].content", "5", "messages[1].content" },
        { Chat, ChatSampling, "messages[1].content", "{}", "messages[1].content" },
        { Chat, ChatSampling, "messages[1].content", "null", "messages[1].content" },
        { Chat, ChatSampling, "messages[1].content", "[{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]", "messages[1].content" },
        { Chat, ChatSampling, "messages[1].content", "[{\"type\":\"text\",\"text\":5}]", "messages[1].content" },
        { Chat, ChatSampling, "messages[1].content", "[5]", "messages[1].content" },
        { Chat, ChatTools, "messages[1].tool_calls[0]", "null", "messages[1].tool_calls[0]" },
        { Chat, ChatTools, "messages[1].tool_calls[0].id", "\"\"", "messages[1].tool_calls[0].id" },
        { Chat, ChatTools, "messages[1].tool_calls[0].type", "\"code\"", "messages[1].tool_calls[0].type" },
        { Chat, ChatTools, "messages[1].tool_calls[0].function", "-", "messages[1].tool_calls[0].function" },
        { Chat, ChatTools, "messages[1].tool_calls[0].function.name", "-", "messages[1].tool_calls[0].function.name" },
        { Chat, ChatTools, "messages[1].tool_calls[0].function.arguments", "\"{not json\"", "messages[1].tool_calls[0].function.arguments" },
        { Chat, ChatTools, "messages[1].tool_calls[0].function.arguments", "\"[1]\"", "messages[1].tool_calls[0].function.arguments" },
        { Chat, ChatTools, "messages[1].tool_calls[0].function.arguments", "5", "messages[1].tool_calls[0].function.arguments" },
        { Chat, ChatTools, "messages[2].tool_call_id", "\"call_9\"", "messages[2].tool_call_id" },
        { Chat, ChatTools, "messages[2].tool_call_id", "-", "messages[2].tool_call_id" },

        // Structured output and tools.
        { Chat, ChatTools, "response_format.type", "\"xml\"", "response_format.type" },
        { Chat, ChatTools, "response_format.type", "-", "response_format.type" },
        { Chat, ChatTools, "response_format.json_schema", "-", "response_format.json_schema" },
        { Chat, ChatTools, "response_format.json_schema.name", "\"bad name!\"", "response_format.json_schema.name" },
        { Chat, ChatTools, "response_format.json_schema.name", "-", "response_format.json_schema.name" },
        { Chat, ChatTools, "response_format.json_schema.schema", "5", "response_format.json_schema.schema" },
        { Chat, ChatTools, "response_format.json_schema.schema", "{\"type\":\"no-such-type\"}", "response_format" },
        { Chat, ChatTools, "tools[0]", "null", "tools[0]" },
        { Chat, ChatTools, "tools[0].type", "\"retrieval\"", "tools[0].type" },
        { Chat, ChatTools, "tools[0].function", "-", "tools[0].function" },
        { Chat, ChatTools, "tools[0].function.name", "-", "tools[0].function.name" },
        { Chat, ChatTools, "tools[0].function.name", "\"get weather\"", "tools[0].function.name" },
        { Chat, ChatTools, "tools[0].function.parameters", "5", "tools[0].function.parameters" },
        { Chat, ChatTools, "tools[1]", "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}", "tools[1].function.name" },
        { Chat, ChatTools, "tool_choice", "\"sometimes\"", "tool_choice" },
        { Chat, ChatTools, "tool_choice", "5", "tool_choice" },
        { Chat, ChatTools, "tool_choice", "[]", "tool_choice" },
        { Chat, ChatTools, "tool_choice", "{\"type\":\"code\"}", "tool_choice.type" },
        { Chat, ChatTools, "tool_choice", "{\"type\":\"function\"}", "tool_choice.function" },
        { Chat, ChatTools, "tool_choice", "{\"type\":\"function\",\"function\":{}}", "tool_choice.function.name" },
        { Chat, ChatTools, "tool_choice", "{\"type\":\"function\",\"function\":{\"name\":5}}", "tool_choice.function.name" },
        { Chat, ChatTools, "tool_choice", "{\"type\":\"function\",\"function\":{\"name\":\"lookup\"}}", "tool_choice.function.name" },
        { Chat, ChatSampling, "tool_choice", "\"required\"", "tool_choice" },
        { Chat, ChatSampling, "functions", "[{\"name\":\"f\"}]", "functions" },
        { Chat, ChatSampling, "function_call", "\"auto\"", "function_call" },
        { Chat, ChatSampling, "audio", "{\"voice\":\"alloy\",\"format\":\"mp3\"}", "audio" },
        { Chat, ChatSampling, "modalities", "[\"text\",\"audio\"]", "modalities" },
        { Chat, ChatSampling, "prediction", "{\"type\":\"content\",\"content\":\"x\"}", "prediction" },
        { Chat, ChatSampling, "web_search_options", "{}", "web_search_options" },

        // Completions.
        { Completions, Completion, "model", "\"\"", "model" },
        { Completions, Completion, "prompt", "-", "prompt" },
        { Completions, Completion, "prompt", "5", "prompt" },
        { Completions, Completion, "prompt", "{}", "prompt" },
        { Completions, Completion, "prompt", "[]", "prompt" },
        { Completions, Completion, "prompt", "[\"a\",\"b\"]", "prompt" },
        { Completions, Completion, "prompt", "[1.5]", "prompt" },
        { Completions, Completion, "prompt", "[-1]", "prompt" },
        { Completions, Completion, "prompt", "[99999]", "prompt" },
        { Completions, Completion, "prompt", "[1,\"a\"]", "prompt" },
        { Completions, Completion, "prompt", "[[1,2],[3]]", "prompt" },
        { Completions, Completion, "prompt", "[true]", "prompt" },
        { Completions, Completion, "suffix", "\"The end\"", "suffix" },
        { Completions, Completion, "max_tokens", "0", "max_tokens" },
        { Completions, Completion, "temperature", "3", "temperature" },
        { Completions, Completion, "top_p", "0", "top_p" },
        { Completions, Completion, "n", "2", "n" },
        { Completions, Completion, "best_of", "2", "best_of" },
        { Completions, Completion, "best_of", "0", "best_of" },
        { Completions, Completion, "logprobs", "1", "logprobs" },
        { Completions, Completion, "logprobs", "6", "logprobs" },
        { Completions, Completion, "echo", "true", "echo" },
        { Completions, Completion, "stop", "[5]", "stop[0]" },
        { Completions, Completion, "presence_penalty", "2.5", "presence_penalty" },
        { Completions, Completion, "frequency_penalty", "-2.5", "frequency_penalty" },
        { Completions, Completion, "seed", "\"7\"", "seed" },
        { Completions, Completion, "logit_bias", "{\"abc\":5}", "logit_bias.abc" },
        { Completions, Completion, "logit_bias", "{\"99999\":1}", "logit_bias" },
        { Completions, Completion, "top_k", "-5", "top_k" },
        { Completions, Completion, "min_p", "\"x\"", "min_p" },
        { Completions, Completion, "repetition_penalty", "-1", "repetition_penalty" },
        { Completions, Completion, "stream", "false", "stream_options" },
    };

    [Theory]
    [MemberData(nameof(Bases))]
    public async Task Post_ValidBaseRequest_Succeeds(string path, string body)
    {
        // The walks below change one field of these; each must be valid as it is, or a 400 would prove nothing.
        using var http = fixture.CreateClient();
        using var response = await http.PostAsync(path, CompletionsTests.Json(body));

        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Post_FieldOutOfRangeOrMalformed_Returns400NamingIt(string path, string body, string field, string value, string? param)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        SetAt(request, field, value == "-" ? null : value);

        using var http = fixture.CreateClient();
        await AssertBadRequestAsync(http, path, request.ToJsonString(), param);
    }

    [Fact]
    public async Task Post_EveryFieldWithEveryWrongJsonType_Returns400NamingIt()
    {
        var covered = new HashSet<string>(StringComparer.Ordinal);
        var failures = new List<string>();
        using var http = fixture.CreateClient();
        foreach (var (path, body, contract) in new (string, string, JsonTypeInfo)[]
        {
            (Chat, ChatSampling, OpenAIJsonContext.CheckedChatCompletionRequest),
            (Chat, ChatTools, OpenAIJsonContext.CheckedChatCompletionRequest),
            (Completions, Completion, OpenAIJsonContext.CheckedCompletionRequest),
        })
        {
            var root = JsonNode.Parse(body)!;
            foreach (var (field, wrong) in WrongTypes(root, contract, string.Empty, covered))
            {
                var request = JsonNode.Parse(body)!.AsObject();
                SetAt(request, field, wrong);
                using var response = await http.PostAsync(path, CompletionsTests.Json(request.ToJsonString()));
                var text = await response.Content.ReadAsStringAsync();
                var error = response.StatusCode == HttpStatusCode.BadRequest ? JsonDocument.Parse(text).RootElement.GetProperty("error") : default;
                if (response.StatusCode != HttpStatusCode.BadRequest || error.GetProperty("param").GetString() != field)
                {
                    failures.Add($"{path} {field} = {wrong}: {(int)response.StatusCode} {text}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));

        // Every field of both contracts is set by a base request (and so walked) or refused by a case above: a new field needs a test.
        var cased = Cases.Select(row => FieldKey((string)row[0], ((string)row[2]).Split('.', '[')[0]));
        var missing = Fields(Chat, OpenAIJsonContext.CheckedChatCompletionRequest).Concat(Fields(Completions, OpenAIJsonContext.CheckedCompletionRequest))
            .Where(key => !covered.Contains(key) && !cased.Contains(key))
            .ToArray();
        Assert.True(missing.Length == 0, "Fields no test sets: " + string.Join(", ", missing));
    }

    [Theory]
    [InlineData(Chat, "[]", null)]
    [InlineData(Chat, "null", null)]
    [InlineData(Chat, "\"hello\"", null)]
    [InlineData(Chat, "{\"model\":\"stories260K-gqa\",", null)]
    [InlineData(Chat, "{\"model\":\"stories260K-gqa\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]} trailing", null)]
    [InlineData(Chat, "{\"model\":\"stories260K-gqa\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\",}]}", "messages[0]")]
    [InlineData(Completions, "{\"model\":\"stories260K-gqa\",\"prompt\":\"Hi\",\"temperature\":NaN}", "temperature")]
    public async Task Post_MalformedBody_Returns400(string path, string body, string? param)
    {
        using var http = fixture.CreateClient();
        await AssertBadRequestAsync(http, path, body, param);
    }

    [Theory]
    [InlineData(Chat, false)]
    [InlineData(Chat, true)]
    [InlineData(Completions, false)]
    [InlineData(Completions, true)]
    public async Task Post_UnexpectedFailure_Returns500WithoutItsCause(string path, bool stream)
    {
        const string Secret = "/srv/secret/path: index 41 out of range";
        await using var server = await InferaTestServer.StartAsync(options => options.AddModel(new FailingRunner(fixture.GqaRunner, Secret), "broken"));
        using var http = server.CreateClient();
        var body = path == Chat
            ? $$"""{"model":"broken","messages":[{"role":"user","content":"Hi"}],"stream":{{(stream ? "true" : "false")}}}"""
            : $$"""{"model":"broken","prompt":"Hi","stream":{{(stream ? "true" : "false")}}}""";

        using var response = await http.PostAsync(path, CompletionsTests.Json(body));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.DoesNotContain("secret", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("range", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
    }

    private static async Task AssertBadRequestAsync(HttpClient http, string path, string body, string? param)
    {
        using var response = await http.PostAsync(path, CompletionsTests.Json(body));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{body} -> {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.True(param == error.GetProperty("param").GetString(), $"{body} -> param {error.GetProperty("param")}, expected {param}: {text}");
        var message = error.GetProperty("message").GetString();
        Assert.False(string.IsNullOrWhiteSpace(message));
        Assert.DoesNotContain("System.", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
    }

    /// <summary>For every field the base request sets, and every array item and map value in it, values of each JSON type the contract does not take.</summary>
    private static IEnumerable<(string Path, string Value)> WrongTypes(JsonNode? node, JsonTypeInfo info, string path, HashSet<string> covered)
    {
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object when node is JsonObject obj:
                foreach (var property in info.Properties.Where(p => !p.IsExtensionData))
                {
                    if (!obj.TryGetPropertyValue(property.Name, out var child))
                    {
                        continue;
                    }

                    covered.Add(FieldKey(info.Type, property.Name));
                    var childPath = path.Length == 0 ? property.Name : path + "." + property.Name;
                    var childInfo = info.Options.GetTypeInfo(property.PropertyType);
                    if (property.CustomConverter is null)
                    {
                        foreach (var wrong in WrongValues(childInfo))
                        {
                            yield return (childPath, wrong);
                        }
                    }

                    foreach (var inner in WrongTypes(child, childInfo, childPath, covered))
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonTypeInfoKind.Enumerable when node is JsonArray array:
                var elementInfo = info.Options.GetTypeInfo(info.ElementType!);
                for (var i = 0; i < array.Count; i++)
                {
                    var itemPath = $"{path}[{i}]";
                    foreach (var wrong in WrongValues(elementInfo))
                    {
                        yield return (itemPath, wrong);
                    }

                    foreach (var inner in WrongTypes(array[i], elementInfo, itemPath, covered))
                    {
                        yield return inner;
                    }
                }

                break;
            case JsonTypeInfoKind.Dictionary when node is JsonObject map:
                var valueInfo = info.Options.GetTypeInfo(info.ElementType!);
                foreach (var (key, _) in map)
                {
                    foreach (var wrong in WrongValues(valueInfo))
                    {
                        yield return ($"{path}.{key}", wrong);
                    }
                }

                break;
        }
    }

    private static string[] WrongValues(JsonTypeInfo info)
    {
        var type = Nullable.GetUnderlyingType(info.Type) ?? info.Type;
        return type switch
        {
            _ when type == typeof(JsonElement) => [],
            _ when type == typeof(float) => ["\"0.5\"", "true", "[]", "{}"],
            _ when type == typeof(int) || type == typeof(long) => ["\"1\"", "true", "1.5", "[]", "{}"],
            _ when type == typeof(bool) => ["\"true\"", "1", "[]", "{}"],
            _ when type == typeof(string) => ["5", "true", "[]", "{}"],
            _ => info.Kind == JsonTypeInfoKind.Enumerable ? ["5", "\"x\"", "{}", "true"] : ["5", "\"x\"", "[]", "true"],
        };
    }

    /// <summary>Every field of a contract and of the objects below it, as type-and-name keys.</summary>
    private static IEnumerable<string> Fields(string endpoint, JsonTypeInfo root)
    {
        _ = endpoint;
        var seen = new HashSet<Type>();
        var pending = new Queue<JsonTypeInfo>([root]);
        while (pending.TryDequeue(out var info))
        {
            if (!seen.Add(info.Type))
            {
                continue;
            }

            if (info.Kind is JsonTypeInfoKind.Enumerable or JsonTypeInfoKind.Dictionary)
            {
                pending.Enqueue(info.Options.GetTypeInfo(info.ElementType!));
            }

            if (info.Kind != JsonTypeInfoKind.Object)
            {
                continue;
            }

            foreach (var property in info.Properties.Where(p => !p.IsExtensionData))
            {
                yield return FieldKey(info.Type, property.Name);
                pending.Enqueue(info.Options.GetTypeInfo(property.PropertyType));
            }
        }
    }

    private static string FieldKey(Type type, string name) => type.Name + "." + name;

    private static string FieldKey(string endpoint, string topLevelName) =>
        FieldKey(endpoint == Chat ? typeof(ChatCompletionRequest) : typeof(CompletionRequest), topLevelName);

    /// <summary>Sets (or, with <see langword="null"/>, removes) the value at a path like <c>messages[1].tool_calls[0].id</c>.</summary>
    private static void SetAt(JsonObject root, string path, string? json)
    {
        var segments = new List<object>();
        foreach (var part in path.Split('.'))
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            segments.Add(bracket < 0 ? part : part[..bracket]);
            while (bracket >= 0)
            {
                var end = part.IndexOf(']', bracket);
                segments.Add(int.Parse(part[(bracket + 1)..end], System.Globalization.CultureInfo.InvariantCulture));
                bracket = part.IndexOf('[', end);
            }
        }

        JsonNode parent = root;
        for (var i = 0; i < segments.Count - 1; i++)
        {
            parent = segments[i] is int index ? parent[index]! : parent[(string)segments[i]]!;
        }

        var value = json is null ? null : JsonNode.Parse(json);
        switch (segments[^1], parent)
        {
            case (string name, JsonObject obj) when json is null:
                obj.Remove(name);
                break;
            case (string name, JsonObject obj):
                obj[name] = value;
                break;
            case (int index, JsonArray array) when index < array.Count:
                array[index] = value;
                break;
            case (int, JsonArray array):
                array.Add(value);
                break;
        }
    }

    /// <summary>A runner that fails the way a bug would: an exception no request could cause, carrying internals.</summary>
    private sealed class FailingRunner(IModelRunner inner, string message) : IModelRunner
    {
        public ModelMetadata Metadata => inner.Metadata;

        public ITokenizer Tokenizer => inner.Tokenizer;

        public IAsyncEnumerable<TokenUpdate> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException(message);

        // The inner runner belongs to the fixture.
        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
