using System.Net;
using System.Text;
using System.Text.Json;

namespace Infera.Tests;

public sealed class ServeCommandTests
{
    [Fact]
    public async Task Serve_GqaModel_AnswersCompletionsAndBenchServeMeasuresIt()
    {
        await using var server = await ServeProcess.StartAsync($"serve --port 0 --model \"{TestModels.Get(TestModels.Stories260KGqa)}\" --api-key cli-key --model-id tiny");
        var url = server.Url;
        using var http = new HttpClient { BaseAddress = url };

        using (var refused = await http.PostAsync("/v1/completions", new StringContent("""{"model":"tiny","prompt":"Once"}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // The chat page needs no key; the API behind it does.
        Assert.Equal("text/html", (await GetRootAsync(http)).MediaType);

        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "cli-key");
        using (var completion = await http.PostAsync("/v1/completions", new StringContent("""{"model":"tiny","prompt":"Once upon a time","max_tokens":5,"temperature":0}""", Encoding.UTF8, "application/json")))
        {
            var body = JsonDocument.Parse(await completion.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
            Assert.Equal(5, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        }

        var (exitCode, stdout, stderr) = await InferaTool.RunAsync($"bench serve --url {url} --api-key cli-key --concurrency 1,2 --requests 4 --max-tokens 8 --prompt-tokens 8 --compare-sequential --json");

        Assert.True(exitCode == 0, stderr);
        var report = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("tiny", report.GetProperty("model").GetString());
        var levels = report.GetProperty("levels");
        Assert.Equal(2, levels.GetArrayLength());
        foreach (var level in levels.EnumerateArray())
        {
            Assert.Equal(0, level.GetProperty("errors").GetInt32());
            Assert.True(level.GetProperty("outputTokensPerSecond").GetDouble() > 0);
            Assert.True(level.GetProperty("timeToFirstTokenMsP50").GetDouble() > 0);
        }

        // Greedy texts of concurrent (batched) requests equal those of the same requests sent one after another.
        Assert.Equal(4, levels[1].GetProperty("textsEqualToSequential").GetInt32());
        Assert.True(levels[1].GetProperty("speedupOverSequential").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, levels[0].GetProperty("textsEqualToSequential").ValueKind);

        // The same load through Ollama's /api/generate (raw prompts): every request streams its tokens and ends with done.
        (exitCode, stdout, stderr) = await InferaTool.RunAsync($"bench serve --url {url} --api-key cli-key --api ollama --concurrency 2 --requests 4 --max-tokens 8 --prompt-tokens 8 --compare-sequential --json");
        Assert.True(exitCode == 0, stderr);
        var ollama = JsonDocument.Parse(stdout).RootElement.GetProperty("levels")[0];
        Assert.Equal(0, ollama.GetProperty("errors").GetInt32());
        Assert.Equal(8, ollama.GetProperty("meanOutputTokens").GetDouble());
        Assert.Equal(4, ollama.GetProperty("textsEqualToSequential").GetInt32());
    }

    [Fact]
    public async Task Serve_NegativePrefixCacheSize_FailsNamingTheOption()
    {
        var (exitCode, _, stderr) = await InferaTool.RunAsync($"serve --model \"{TestModels.Get(TestModels.Stories260KGqa)}\" --prefix-cache-mb -1");

        Assert.Equal(1, exitCode);
        Assert.Contains("--prefix-cache-mb must be 0 (off) or more.", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_PrefixCacheOff_SameRepliesAsWithDefaultCache()
    {
        var model = TestModels.Get(TestModels.Stories260KOnnx);
        const string Input = "Once upon a time\nThe end.\nAnd then?\n/exit\n";
        var cached = await InferaTool.RunAsync($"chat --model \"{model}\" --max-tokens 8 --temperature 0", stdin: Input);
        var off = await InferaTool.RunAsync($"chat --model \"{model}\" --max-tokens 8 --temperature 0 --prefix-cache-mb 0", stdin: Input);

        Assert.Equal(0, cached.ExitCode);
        Assert.Equal(0, off.ExitCode);
        Assert.Equal(off.Stdout, cached.Stdout);
        Assert.True(cached.Stdout.Length > 20, cached.Stdout);
    }

    [Fact]
    public async Task Serve_HostThatIsNotAnAddress_FailsWithOneLine()
    {
        var (exitCode, _, stderr) = await InferaTool.RunAsync($"serve --model \"{TestModels.Get(TestModels.Stories260KGqa)}\" --host example.com");

        Assert.Equal(1, exitCode);
        Assert.Equal("infera: error: --host must be an IP address or localhost; it was 'example.com'.", stderr.Trim());
    }

    [Fact]
    public async Task Serve_NoUi_BrowserGetsInferaIsRunning()
    {
        await using var server = await ServeProcess.StartAsync($"serve --port 0 --model \"{TestModels.Get(TestModels.Stories260KGqa)}\" --model-id tiny --no-ui");
        using var http = new HttpClient { BaseAddress = server.Url };

        var (mediaType, body) = await GetRootAsync(http);

        Assert.Equal("text/plain", mediaType);
        Assert.Equal("Infera is running", body);
    }

    private static async Task<(string? MediaType, string Body)> GetRootAsync(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.TryAddWithoutValidation("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }
}
