using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Infera.Tests;

public sealed partial class ServeCommandTests
{
    [Fact]
    public async Task Serve_GqaModel_AnswersCompletionsAndBenchServeMeasuresIt()
    {
        var info = new ProcessStartInfo(InferaTool.Executable, $"serve --model \"{TestModels.Get(TestModels.Stories260KGqa)}\" --port 0 --api-key cli-key --model-id tiny")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = TestModels.RepositoryRoot,
        };
        using var process = Process.Start(info)!;
        try
        {
            var url = await ReadServingUrlAsync(process.StandardError);
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

            var (exitCode, stdout, stderr) = await InferaTool.RunAsync($"bench serve --url {url} --api-key cli-key --concurrency 1,2 --requests 4 --max-tokens 8 --prompt-tokens 8 --json");

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
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
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
        var info = new ProcessStartInfo(InferaTool.Executable, $"serve --model \"{TestModels.Get(TestModels.Stories260KGqa)}\" --port 0 --model-id tiny --no-ui")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = TestModels.RepositoryRoot,
        };
        using var process = Process.Start(info)!;
        try
        {
            using var http = new HttpClient { BaseAddress = await ReadServingUrlAsync(process.StandardError) };

            var (mediaType, body) = await GetRootAsync(http);

            Assert.Equal("text/plain", mediaType);
            Assert.Equal("Infera is running", body);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<(string? MediaType, string Body)> GetRootAsync(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.TryAddWithoutValidation("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    private static async Task<Uri> ReadServingUrlAsync(StreamReader stderr)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new StringBuilder();
        while (await stderr.ReadLineAsync(timeout.Token) is { } line)
        {
            seen.AppendLine(line);
            if (ServingLine().Match(line) is { Success: true } match)
            {
                // Keep draining stderr so that the server never blocks on a full pipe.
                _ = stderr.ReadToEndAsync(CancellationToken.None);
                return new Uri(match.Groups[1].Value);
            }
        }

        throw new InvalidOperationException("infera serve exited before serving: " + seen);
    }

    [GeneratedRegex(@"^infera: serving 'tiny' .* at (http://127\.0\.0\.1:\d+)/v1")]
    private static partial Regex ServingLine();
}
