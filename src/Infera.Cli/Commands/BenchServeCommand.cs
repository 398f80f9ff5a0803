using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Infera.Cli.Load;

namespace Infera.Cli.Commands;

/// <summary><c>infera bench serve</c>: a load generator like vLLM's serving benchmark. For each concurrency, N streamed
/// <c>/v1/completions</c> requests from that many clients; requests/s, output tokens/s, time to first token and inter-token latency.</summary>
internal static class BenchServeCommand
{
    private const string Story = "Once upon a time there was a little girl named Lily who lived in a small house near the woods with her mom and dad and a big brown dog called Max";

    internal static Command Create()
    {
        var url = new Option<string>("--url") { Description = "The server's base URL, for example http://127.0.0.1:8080.", Required = true };
        var concurrency = new Option<string>("--concurrency", "-c") { Description = "Comma-separated client counts to measure in turn (each level starts with its clients' connections open).", DefaultValueFactory = _ => "1,2,4,8,16" };
        var requests = new Option<int>("--requests", "-r") { Description = "Requests per concurrency level.", DefaultValueFactory = _ => 100 };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Approximate prompt length in tokens (calibrated with the server's usage counts).", DefaultValueFactory = _ => 32 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "max_tokens of each request (the model may stop earlier).", DefaultValueFactory = _ => 64 };
        var apiKey = new Option<string?>("--api-key") { Description = "Sent as 'Authorization: Bearer KEY'." };
        var model = new Option<string?>("--model-id") { Description = "The model to request; default: the first of /v1/models." };
        var compare = new Option<bool>("--compare-sequential") { Description = "Before each level above 1, send the same requests one after another: print the level's throughput over that and how many texts equal their sequential ones." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout instead of a table." };
        var api = new Option<string>("--api") { Description = "The protocol: openai (streamed /v1/completions) or ollama (streamed /api/generate with a raw prompt). Default: openai.", DefaultValueFactory = _ => "openai" };
        var command = new Command("serve", "Load-test an OpenAI-compatible server (infera serve, vLLM, llama.cpp): requests/s, output tokens/s, TTFT and inter-token latency per concurrency.");
        foreach (var option in new Option[] { url, concurrency, requests, promptTokens, maxTokens, apiKey, model, compare, json, api })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var levels = ParseLevels(result.GetValue(concurrency)!);
            var protocol = result.GetValue(api) switch
            {
                "openai" => LoadApi.OpenAI,
                "ollama" => LoadApi.Ollama,
                var other => throw new ArgumentException($"--api must be openai or ollama; it was '{other}'."),
            };
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
            // Calibrate through /v1/completions (Ollama serves it too): its prompt_tokens counts the whole prompt, while
            // Ollama's prompt_eval_count leaves out tokens continued from a prefix cache.
            var words = wantedPromptTokens;
            var warm = await CompletionLoad.SendAsync(http, modelId, Prompt(0, words), max, ct).ConfigureAwait(false);
            var calibrationTokens = warm.PromptTokens;
            if (warm.Error is null && protocol != LoadApi.OpenAI)
            {
                warm = await CompletionLoad.SendAsync(http, modelId, Prompt(0, words), max, ct, protocol).ConfigureAwait(false);
            }

            if (warm.Error is { } warmError)
            {
                throw new InvalidOperationException("The warm-up request failed: " + warmError);
            }

            if (calibrationTokens > 0)
            {
                words = Math.Max(1, (int)Math.Round(words * (double)wantedPromptTokens / calibrationTokens));
            }

            var reports = new List<LoadLevel>();
            var sequential = new Dictionary<int, LoadLevel>();
            foreach (var level in levels)
            {
                if (result.GetValue(compare) && level > 1)
                {
                    sequential[level] = await CompletionLoad.RunLevelAsync(http, modelId, 1, count, i => Prompt(i + 1, words), max, ct, protocol).ConfigureAwait(false);
                }

                if (level > 1)
                {
                    await OpenConnectionsAsync(http, modelId, level, words, ct, protocol).ConfigureAwait(false);
                }

                reports.Add(await CompletionLoad.RunLevelAsync(http, modelId, level, count, i => Prompt(i + 1, words), max, ct, protocol).ConfigureAwait(false));
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
                    if (sequential.TryGetValue(r.Concurrency, out var one))
                    {
                        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                            $"{"",11}  the same {count} requests one after another: {one.OutputTokensPerSecond:F1} output tok/s; concurrency {r.Concurrency} / sequential: {r.OutputTokensPerSecond / one.OutputTokensPerSecond:F2}x; texts equal to their sequential ones: {EqualTexts(r, one)}/{count}")).ConfigureAwait(false);
                    }

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
                    ["api"] = result.GetValue(api),
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
                        ["sequentialOutputTokensPerSecond"] = sequential.TryGetValue(r.Concurrency, out var one) ? Math.Round(one.OutputTokensPerSecond, 1) : null,
                        ["speedupOverSequential"] = sequential.TryGetValue(r.Concurrency, out one) ? Math.Round(r.OutputTokensPerSecond / one.OutputTokensPerSecond, 3) : null,
                        ["textsEqualToSequential"] = sequential.TryGetValue(r.Concurrency, out one) ? EqualTexts(r, one) : null,
                    }).ToArray(),
                };
                await Console.Out.WriteLineAsync(CliJson.Serialize(document)).ConfigureAwait(false);
            }

            return reports.Any(r => r.Errors > 0) || sequential.Values.Any(r => r.Errors > 0) ? CliErrors.Failure : 0;
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// Opens a level's connections before it is timed, as a client that keeps its connections alive has them: one
    /// untimed burst of short requests, one per client, so that the level measures generation rather than the load
    /// generator opening connections (7 of the 8 of a first burst at concurrency 8 arrived 2-4 ms after the first on 2
    /// processors, in a level that lasts 25 ms). Its prompts share nothing with the level's. Then a pause longer than the
    /// server's batch window and its memory of recent completions (20 ms), so that the level starts on an idle server, as
    /// the sequential comparison does.
    /// </summary>
    private static async Task OpenConnectionsAsync(HttpClient http, string modelId, int clients, int words, CancellationToken cancellationToken, LoadApi protocol)
    {
        await CompletionLoad.RunLevelAsync(http, modelId, clients, clients, i => Prompt(100_000 + i, words), 8, cancellationToken, protocol).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
    }

    private static int EqualTexts(LoadLevel level, LoadLevel sequential) =>
        level.Texts.Zip(sequential.Texts).Count(pair => pair.First is not null && pair.First == pair.Second);

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
}
