using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OllamaSharp;
using OllamaSharp.Models;
using OllamaSharp.Models.Chat;

namespace Infera.Server.Tests;

/// <summary>OllamaSharp, the .NET Ollama client, against a running server: what a user of any Ollama front end does.</summary>
[Collection(OllamaCollection.Name)]
public sealed class OllamaSharpTests(OllamaFixture fixture)
{
    private OllamaApiClient Client() => new(fixture.CreateClient(), "stories");

    [Fact]
    public async Task ListLocalModels_Catalog_ListsTaggedNamesWithDetails()
    {
        var models = (await Client().ListLocalModelsAsync()).ToList();

        var stories = Assert.Single(models, m => m.Name == "stories:latest");
        Assert.Contains(models, m => m.Name == "stories-onnx:latest");
        Assert.Equal("llama", stories.Details.Family);
        Assert.True(stories.Size > 100_000, $"size {stories.Size}");
        Assert.Equal(64, stories.Digest.Length);
        Assert.True(stories.ModifiedAt > new DateTime(2020, 1, 1));
    }

    [Fact]
    public async Task ShowModel_Name_ReturnsArchitectureAndContext()
    {
        var show = await Client().ShowModelAsync("stories");

        Assert.Equal("llama", show.Details.Family);
        Assert.Equal("llama", show.Info.Architecture);
        Assert.Contains("completion", show.Capabilities!);
        Assert.Contains("FROM ", show.Modelfile, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShowModel_UnknownName_ThrowsNotFound()
    {
        var error = await Assert.ThrowsAnyAsync<HttpRequestException>(() => Client().ShowModelAsync("no-such-model"));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Chat_Streaming_GreedyTextEqualsOpenAIEndpoint()
    {
        var request = new ChatRequest
        {
            Model = "stories",
            Messages = [new Message(OllamaSharp.Models.Chat.ChatRole.User, "Once upon a time")],
            Options = new RequestOptions { Temperature = 0, NumPredict = 24 },
            Stream = true,
        };
        var text = new StringBuilder();
        ChatDoneResponseStream? done = null;
        var chunks = 0;
        await foreach (var chunk in Client().ChatAsync(request))
        {
            chunks++;
            text.Append(chunk?.Message.Content);
            done = chunk as ChatDoneResponseStream ?? done;
        }

        var openAi = await OpenAIChatTextAsync("""{"model":"stories","messages":[{"role":"user","content":"Once upon a time"}],"temperature":0,"max_tokens":24}""");
        Assert.Equal(openAi, text.ToString());
        Assert.True(chunks > 5, $"{chunks} chunks: the reply was not streamed");
        Assert.NotNull(done);
        Assert.Equal("length", done.DoneReason);
        Assert.Equal(24, done.EvalCount);
        Assert.True(done.PromptEvalCount > 0);
        Assert.True(done.EvalDuration > 0 && done.PromptEvalDuration > 0 && done.TotalDuration >= done.EvalDuration + done.PromptEvalDuration);
    }

    [Fact]
    public async Task Generate_Streaming_GreedyTextEqualsOpenAICompletions()
    {
        var request = new GenerateRequest { Model = "stories", Prompt = "Once upon a time", Raw = true, Options = new RequestOptions { Temperature = 0, NumPredict = 20 } };
        var text = new StringBuilder();
        GenerateDoneResponseStream? done = null;
        await foreach (var chunk in Client().GenerateAsync(request))
        {
            text.Append(chunk?.Response);
            done = chunk as GenerateDoneResponseStream ?? done;
        }

        using var http = fixture.CreateClient();
        using var completion = await http.PostAsync("/v1/completions", CompletionsTests.Json("""{"model":"stories","prompt":"Once upon a time","max_tokens":20,"temperature":0}"""));
        var expected = JsonDocument.Parse(await completion.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("text").GetString();
        Assert.Equal(expected, text.ToString());
        Assert.NotNull(done);
        Assert.Equal(20, done.EvalCount);
    }

    [Fact]
    public async Task ChatClient_MicrosoftExtensionsAI_ReturnsTextAndUsage()
    {
        IChatClient client = Client();

        var response = await client.GetResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 12 });

        Assert.False(string.IsNullOrWhiteSpace(response.Text));
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(12, response.Usage?.OutputTokenCount);
    }

    [Fact]
    public async Task CreateCopyDelete_Modelfile_ManagesModelsByName()
    {
        var client = Client();
        await foreach (var _ in client.CreateModelAsync(new CreateModelRequest { Model = "storyteller", From = "stories", System = "You tell stories.", Parameters = new Dictionary<string, object> { ["temperature"] = 0 } }))
        {
        }

        await client.CopyModelAsync("storyteller", "storyteller:v2");
        var names = (await client.ListLocalModelsAsync()).Select(m => m.Name).ToList();
        Assert.Contains("storyteller:latest", names);
        Assert.Contains("storyteller:v2", names);
        var show = await client.ShowModelAsync("storyteller:v2");
        Assert.Equal("You tell stories.", show.System);
        Assert.Contains("temperature", show.Parameters, StringComparison.Ordinal);

        await client.DeleteModelAsync("storyteller:v2");
        await client.DeleteModelAsync("storyteller");

        names = (await client.ListLocalModelsAsync()).Select(m => m.Name).ToList();
        Assert.DoesNotContain("storyteller:latest", names);
        Assert.DoesNotContain("storyteller:v2", names);
        await Assert.ThrowsAnyAsync<Exception>(() => client.DeleteModelAsync("storyteller"));
    }

    [Fact]
    public async Task PullModel_FolderCatalog_FailsWithAClearError()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await foreach (var _ in Client().PullModelAsync("org/model"))
            {
            }
        });

        Assert.Contains("pulling needs the model library", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListRunningModels_AfterARequest_ShowsTheModelAndWhenItExpires()
    {
        var client = Client();
        await foreach (var _ in client.GenerateAsync(new GenerateRequest { Model = "stories", Prompt = "Hi", Options = new RequestOptions { NumPredict = 2 } }))
        {
        }

        var running = Assert.Single(await client.ListRunningModelsAsync(), m => m.Name == "stories:latest");
        Assert.True(running.ExpiresAt > DateTime.UtcNow.AddMinutes(3) && running.ExpiresAt < DateTime.UtcNow.AddMinutes(6), $"expires at {running.ExpiresAt:o}");
    }

    [Fact]
    public async Task Version_ReturnsSemver()
    {
        var version = await Client().GetVersionAsync();

        Assert.Matches(@"^\d+\.\d+\.\d+$", version);
    }

    private async Task<string> OpenAIChatTextAsync(string body)
    {
        using var http = fixture.CreateClient();
        using var response = await http.PostAsync("/v1/chat/completions", CompletionsTests.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }
}
