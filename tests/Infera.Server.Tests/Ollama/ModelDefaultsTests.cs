using System.Net;
using System.Text.Json;
using Infera.Tests;

namespace Infera.Server.Tests;

/// <summary>A Modelfile's SYSTEM and PARAMETERs reach the OpenAI endpoints too, for on-demand models and for models pinned from a catalog; a request's own fields win.</summary>
public sealed class ModelDefaultsTests : IAsyncLifetime
{
    private const string System = "You tell short stories.";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "infera-defaults-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync()
    {
        var model = TestModels.Get(TestModels.Stories260KGqa);
        OllamaFixture.WriteModel(_root, "teller", $"FROM {model}\nPARAMETER temperature 0\nPARAMETER num_predict 3\nSYSTEM {System}\n");
        OllamaFixture.WriteModel(_root, "plain", $"FROM {model}\n");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ChatAndCompletions_UseTheModelfileDefaults_RequestFieldsWin(bool pinned)
    {
        var catalog = new DirectoryModelCatalog(_root);
        var teller = (await catalog.FindAsync("teller"))!;
        Assert.Equal(System, teller.System);
        await using var server = await InferaTestServer.StartAsync(options =>
        {
            options.Catalog = catalog;
            if (pinned)
            {
                options.AddModel(teller, "teller");
            }
        });
        await ((InferaModelRegistry)server.Services.GetService(typeof(InferaModelRegistry))!).WaitUntilReadyAsync();
        using var http = server.CreateClient();

        // num_predict 3 stands in for max_tokens; the SYSTEM message is added when the conversation has none.
        var byDefault = await PostAsync(http, "/v1/chat/completions", """{"model":"teller","messages":[{"role":"user","content":"Tell me a story."}]}""");
        Assert.Equal(3, Usage(byDefault, "completion_tokens"));
        var withSystem = await PostAsync(http, "/v1/chat/completions", $$"""{"model":"plain","temperature":0,"max_tokens":3,"messages":[{"role":"system","content":"{{System}}"},{"role":"user","content":"Tell me a story."}]}""");
        var without = await PostAsync(http, "/v1/chat/completions", """{"model":"plain","temperature":0,"max_tokens":3,"messages":[{"role":"user","content":"Tell me a story."}]}""");
        Assert.Equal(Usage(withSystem, "prompt_tokens"), Usage(byDefault, "prompt_tokens"));
        Assert.NotEqual(Usage(without, "prompt_tokens"), Usage(byDefault, "prompt_tokens"));
        Assert.Equal(Text(withSystem), Text(byDefault));

        // The request's own fields win: its system message replaces the default one, its max_tokens the num_predict.
        var own = await PostAsync(http, "/v1/chat/completions", """{"model":"teller","max_tokens":6,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Tell me a story."}]}""");
        var ownOnPlain = await PostAsync(http, "/v1/chat/completions", """{"model":"plain","temperature":0,"max_tokens":6,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Tell me a story."}]}""");
        Assert.Equal(6, Usage(own, "completion_tokens"));
        Assert.Equal(Usage(ownOnPlain, "prompt_tokens"), Usage(own, "prompt_tokens"));
        Assert.Equal(Text(ownOnPlain), Text(own));

        // A raw completion takes the parameters (there is no conversation to add a system message to).
        var completion = await PostAsync(http, "/v1/completions", """{"model":"teller","prompt":"Once upon a time"}""");
        Assert.Equal(3, Usage(completion, "completion_tokens"));
        var longer = await PostAsync(http, "/v1/completions", """{"model":"teller","prompt":"Once upon a time","max_tokens":5}""");
        Assert.Equal(5, Usage(longer, "completion_tokens"));
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, string path, string body)
    {
        using var response = await http.PostAsync(path, CompletionsTests.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private static int Usage(JsonElement response, string name) => response.GetProperty("usage").GetProperty(name).GetInt32();

    private static string? Text(JsonElement response) => response.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
}
