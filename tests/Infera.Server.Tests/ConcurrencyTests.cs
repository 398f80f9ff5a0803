using System.Text;
using System.Text.Json;

namespace Infera.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ConcurrencyTests(ServerFixture fixture)
{
    private static readonly string[] Openings = ["Once upon a time", "Lily", "Tom had a big", "The sun", "One day, a little", "Ben and Mia", "The cat", "A bird"];
    private static readonly string[] Endings = ["", " went", " saw a", " was very"];

    [Fact]
    public async Task ThirtyTwoConcurrentStreams_EachEqualsItsSequentialGreedyText()
    {
        var prompts = Openings.SelectMany(o => Endings.Select(e => o + e)).ToArray();
        Assert.Equal(32, prompts.Length);
        var expected = new string[prompts.Length];
        for (var i = 0; i < prompts.Length; i++)
        {
            expected[i] = await ServerFixture.GreedyAsync(fixture.GqaRunner, prompts[i], 24 + (i % 5));
        }

        using var http = fixture.CreateClient();
        var actual = await Task.WhenAll(prompts.Select((prompt, i) => StreamAsync(http, prompt, 24 + (i % 5))));

        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(expected[i], actual[i]);
        }

        Assert.True(await Eventually.TrueAsync(() => fixture.GqaRunner.RunningRequests == 0, TimeSpan.FromSeconds(10)));
    }

    private static async Task<string> StreamAsync(HttpClient http, string prompt, int maxTokens)
    {
        var body = JsonSerializer.Serialize(new { model = ServerFixture.Gqa, messages = new[] { new { role = "user", content = prompt } }, max_tokens = maxTokens, temperature = 0, stream = true });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = CompletionsTests.Json(body) };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var text = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (line == "data: [DONE]")
            {
                break;
            }

            var delta = JsonDocument.Parse(line["data: ".Length..]).RootElement.GetProperty("choices")[0].GetProperty("delta");
            if (delta.TryGetProperty("content", out var content))
            {
                text.Append(content.GetString());
            }
        }

        return text.ToString();
    }
}
