using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Infera.Cli.Commands;

/// <summary><c>infera bench serve</c>: a load generator like vLLM's serving benchmark. For each concurrency, N streamed
/// <c>/v1/completions</c> requests from that many clients; requests/s, output tokens/s, time to first token and inter-token latency.</summary>
internal static class BenchServeCommand
{
    private const string Story = "Once upon a time there was a little girl named Lily who lived in a small house near the woods with her mom and dad and a big brown dog called Max";

    internal static Command Create()
    {
        var url = new Option<string>("--url") { Description = "The server's base URL, for example http://127.0.0.1:8080.", Required = true };
        var concurrency = new Option<string>("--concurrency", "-c") { Description = "Comma-separated client counts to measure in turn.", DefaultValueFactory = _ => "1,2,4,8,16" };
        var requests = new Option<int>("--requests", "-r") { Description = "Requests per concurrency level.", DefaultValueFactory = _ => 100 };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Approximate prompt length in tokens (calibrated with the server's usage counts).", DefaultValueFactory = _ => 32 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "max_tokens of each request (the model may stop earlier).", DefaultValueFactory = _ => 64 };
        var apiKey = new Option<string?>("--api-key") { Description = "Sent as 'Authorization: Bearer KEY'." };
        var model = new Option<string?>("--model-id") { Description = "The model to request; default: the first of /v1/models." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout instead of a table." };
        var command = new Command("serve", "Load-test an OpenAI-compatible server (infera serve, vLLM, llama.cpp): requests/s, output tokens/s, TTFT and inter-token latency per concurrency.");
        foreach (var option in new Option[] { url, concurrency, requests, promptTokens, maxTokens, apiKey, model, json })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var levels = ParseLevels(result.GetValue(concurrency)!);
            var count = Positive(result.GetValue(requests), "--requests");
            var wantedPromptTokens = Positive(result.GetValue(promptTokens), "--prompt-tokens");
            var max = Positive(result.GetValue(maxTokens), "--max-tokens");
            if (!Uri.TryCreate(result.GetValue(url), UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException("--url must be an absolute http(s) URL, for example http://127.0.0.1:8080.");
            }

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
            {
                BaseAddress = baseUri,
                Timeout = TimeSpan.FromMinutes(10),
            };
            if (result.GetValue(apiKey) is { } key)
            {
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }

            var modelId = result.GetValue(model) ?? await FirstModelAsync(http, ct).ConfigureAwait(false);

            // Warm up and calibrate: the prompt is story text cut to the word count that gives about the wanted tokens.
            var words = wantedPromptTokens;
            var warm = await SendAsync(http, modelId, Prompt(0, words), max, ct).ConfigureAwait(false);
            if (warm.Error is { } warmError)
            {
                throw new InvalidOperationException("The warm-up request failed: " + warmError);
            }

            if (warm.PromptTokens > 0)
            {
                words = Math.Max(1, (int)Math.Round(words * (double)wantedPromptTokens / warm.PromptTokens));
            }

            var reports = new List<LevelReport>();
            foreach (var level in levels)
            {
                reports.Add(await RunLevelAsync(http, modelId, level, count, words, max, ct).ConfigureAwait(false));
                if (!result.GetValue(json))
                {
                    if (reports.Count == 1)
                    {
                        await Console.Out.WriteLineAsync($"model: {modelId} at {baseUri}, {count} requests per level, max_tokens {max}, prompt ~{reports[0].MeanPromptTokens:F0} tokens").ConfigureAwait(false);
                        await Console.Out.WriteLineAsync("concurrency  requests  errors  req/s    output tok/s  mean out  TTFT p50 ms  TTFT p99 ms  ITL p50 ms  ITL p99 ms").ConfigureAwait(false);
                    }

                    var r = reports[^1];
                    await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{r.Concurrency,11}  {r.Requests,8}  {r.Errors,6}  {r.RequestsPerSecond,7:F2}  {r.OutputTokensPerSecond,12:F1}  {r.MeanOutputTokens,8:F1}  {r.TimeToFirstTokenP50,11:F2}  {r.TimeToFirstTokenP99,11:F2}  {r.InterTokenP50,10:F2}  {r.InterTokenP99,10:F2}")).ConfigureAwait(false);
                    if (r.FirstError is { } error)
                    {
                        await Console.Error.WriteLineAsync("infera: first error at concurrency " + r.Concurrency.ToString(CultureInfo.InvariantCulture) + ": " + CliErrors.OneLine(error)).ConfigureAwait(false);
                    }
                }
            }

            if (result.GetValue(json))
            {
                var document = new Dictionary<string, object?>
                {
                    ["url"] = baseUri.ToString(),
                    ["model"] = modelId,
                    ["requests"] = count,
                    ["maxTokens"] = max,
                    ["levels"] = reports.Select(r => new Dictionary<string, object?>
                    {
                        ["concurrency"] = r.Concurrency,
                        ["requests"] = r.Requests,
                        ["errors"] = r.Errors,
                        ["durationSeconds"] = Math.Round(r.DurationSeconds, 3),
                        ["requestsPerSecond"] = Math.Round(r.RequestsPerSecond, 3),
                        ["outputTokensPerSecond"] = Math.Round(r.OutputTokensPerSecond, 1),
                        ["meanPromptTokens"] = Math.Round(r.MeanPromptTokens, 1),
                        ["meanOutputTokens"] = Math.Round(r.MeanOutputTokens, 1),
                        ["timeToFirstTokenMsP50"] = Math.Round(r.TimeToFirstTokenP50, 3),
                        ["timeToFirstTokenMsP99"] = Math.Round(r.TimeToFirstTokenP99, 3),
                        ["interTokenLatencyMsP50"] = Math.Round(r.InterTokenP50, 3),
                        ["interTokenLatencyMsP99"] = Math.Round(r.InterTokenP99, 3),
                        ["firstError"] = r.FirstError,
                    }).ToArray(),
                };
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(document)).ConfigureAwait(false);
            }

            return reports.Any(r => r.Errors > 0) ? CliErrors.Failure : 0;
        }, cancellationToken));
        return command;
    }

    private static async Task<LevelReport> RunLevelAsync(HttpClient http, string modelId, int concurrency, int count, int words, int maxTokens, CancellationToken cancellationToken)
    {
        var results = new RequestResult[count];
        var next = -1;
        var clock = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                results[i] = await SendAsync(http, modelId, Prompt(i + 1, words), maxTokens, cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken));
        await Task.WhenAll(clients).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;

        var ok = results.Where(r => r.Error is null).ToArray();
        var outputTokens = ok.Sum(r => (long)r.OutputTokens);
        return new LevelReport(
            concurrency,
            count,
            count - ok.Length,
            seconds,
            ok.Length / seconds,
            outputTokens / seconds,
            ok.Length == 0 ? 0 : ok.Average(r => r.PromptTokens),
            ok.Length == 0 ? 0 : ok.Average(r => r.OutputTokens),
            Percentile(ok.Select(r => r.TimeToFirstTokenMs), 50),
            Percentile(ok.Select(r => r.TimeToFirstTokenMs), 99),
            Percentile(ok.SelectMany(r => r.InterTokenMs), 50),
            Percentile(ok.SelectMany(r => r.InterTokenMs), 99),
            results.FirstOrDefault(r => r.Error is not null).Error);
    }

    /// <summary>One streamed completion: TTFT to the first text chunk, then the gaps between text chunks (one token each).</summary>
    private static async Task<RequestResult> SendAsync(HttpClient http, string modelId, string prompt, int maxTokens, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = modelId,
            ["prompt"] = prompt,
            ["max_tokens"] = maxTokens,
            ["temperature"] = 0,
            ["stream"] = true,
            ["stream_options"] = new Dictionary<string, object> { ["include_usage"] = true },
        });
        var start = Stopwatch.GetTimestamp();
        var gaps = new List<double>(maxTokens);
        double ttft = 0;
        long last = 0;
        int promptTokens = 0, outputTokens = 0;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return RequestResult.Failed($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
            var done = false;
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                var data = line.AsSpan(6);
                if (data.SequenceEqual("[DONE]"))
                {
                    done = true;
                    break;
                }

                var now = Stopwatch.GetTimestamp();
                using var chunk = JsonDocument.Parse(line.AsMemory(6));
                var root = chunk.RootElement;
                if (root.TryGetProperty("error", out var error))
                {
                    return RequestResult.Failed(error.ToString());
                }

                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    promptTokens = usage.GetProperty("prompt_tokens").GetInt32();
                    outputTokens = usage.GetProperty("completion_tokens").GetInt32();
                }

                if (root.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                    && choices[0].TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 })
                {
                    if (last == 0)
                    {
                        ttft = Stopwatch.GetElapsedTime(start, now).TotalMilliseconds;
                    }
                    else
                    {
                        gaps.Add(Stopwatch.GetElapsedTime(last, now).TotalMilliseconds);
                    }

                    last = now;
                }
            }

            return done ? new RequestResult(ttft, gaps, promptTokens, outputTokens, null) : RequestResult.Failed("The stream ended without data: [DONE].");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return RequestResult.Failed(ex.Message);
        }
    }

    private static async Task<string> FirstModelAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("/v1/models", cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET /v1/models answered {(int)response.StatusCode}: {text}");
        }

        using var document = JsonDocument.Parse(text);
        var data = document.RootElement.GetProperty("data");
        return data.GetArrayLength() > 0 ? data[0].GetProperty("id").GetString()! : throw new InvalidOperationException("The server lists no models.");
    }

    private static string Prompt(int index, int words)
    {
        // Different openings per request, so that no two prompts are identical.
        var all = (index.ToString(CultureInfo.InvariantCulture) + " " + Story).Split(' ');
        var builder = new StringBuilder();
        for (var i = 0; i < words; i++)
        {
            builder.Append(i == 0 ? string.Empty : " ").Append(all[i % all.Length]);
        }

        return builder.ToString();
    }

    private static int[] ParseLevels(string text)
    {
        var levels = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"--concurrency takes positive integers separated by commas; '{s}' is not one."))
            .ToArray();
        return levels.Length > 0 ? levels : throw new ArgumentException("--concurrency needs at least one level.");
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");

    private static double Percentile(IEnumerable<double> values, double percent)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return 0;
        }

        // Nearest rank.
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    private readonly record struct RequestResult(double TimeToFirstTokenMs, List<double> InterTokenMs, int PromptTokens, int OutputTokens, string? Error)
    {
        public static RequestResult Failed(string error) => new(0, [], 0, 0, error);
    }

    private sealed record LevelReport(
        int Concurrency,
        int Requests,
        int Errors,
        double DurationSeconds,
        double RequestsPerSecond,
        double OutputTokensPerSecond,
        double MeanPromptTokens,
        double MeanOutputTokens,
        double TimeToFirstTokenP50,
        double TimeToFirstTokenP99,
        double InterTokenP50,
        double InterTokenP99,
        string? FirstError);
}
