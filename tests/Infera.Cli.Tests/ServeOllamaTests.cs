using System.Text;
using Infera.Models.Tests;
using OllamaSharp;
using OllamaSharp.Models;

namespace Infera.Tests;

/// <summary><c>infera serve</c> with the model library behind Ollama's API: pull from a loopback Hub, chat with the pulled model on demand, delete it.</summary>
public sealed class ServeOllamaTests
{
    [Fact]
    public async Task Serve_OllamaSharp_PullsChatsAndDeletesThroughTheLibrary()
    {
        await using var hub = await FakeHub.StartAsync();
        hub.AddRepo("test-org/stories").AddFolder(TestModels.Get(TestModels.Stories260KGqa));
        var home = Path.Combine(Path.GetTempPath(), "infera-serve-ollama-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await ServeProcess.StartAsync($"serve --port 0 --model \"{TestModels.Get(TestModels.Stories260KOnnx)}\"", new Dictionary<string, string>
            {
                ["INFERA_HOME"] = home,
                ["HF_HOME"] = Path.Combine(home, "hf"),
                ["HF_ENDPOINT"] = hub.Endpoint.ToString().TrimEnd('/'),
                ["HF_TOKEN"] = hub.ValidToken,
            });
            var url = server.Url;
            var ollama = new OllamaApiClient(new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(2) });

            var statuses = new List<string>();
            await foreach (var progress in ollama.PullModelAsync("test-org/stories"))
            {
                statuses.Add(progress!.Status);
            }

            Assert.Equal("success", statuses[^1]);
            Assert.Contains("pulling manifest", statuses);
            var names = (await ollama.ListLocalModelsAsync()).Select(m => m.Name).ToList();
            Assert.Contains("test-org/stories:latest", names);
            Assert.Contains("stories260K-onnx:latest", names);

            var text = new StringBuilder();
            await foreach (var chunk in ollama.GenerateAsync(new GenerateRequest { Model = "test-org/stories", Prompt = "Once upon a time", Raw = true, Options = new RequestOptions { Temperature = 0, NumPredict = 30 } }))
            {
                text.Append(chunk?.Response);
            }

            Assert.StartsWith("Once upon a time" + text, TestModels.Golden("golden-once-upon-a-time.txt"), StringComparison.Ordinal);
            Assert.Contains("test-org/stories:latest", (await ollama.ListRunningModelsAsync()).Select(m => m.Name));

            await ollama.DeleteModelAsync("test-org/stories");
            Assert.DoesNotContain("test-org/stories:latest", (await ollama.ListLocalModelsAsync()).Select(m => m.Name));
            Assert.DoesNotContain("test-org/stories:latest", (await ollama.ListRunningModelsAsync()).Select(m => m.Name));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
