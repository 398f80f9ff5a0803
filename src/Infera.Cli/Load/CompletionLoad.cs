using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;

namespace Infera.Cli.Load;

/// <summary>
/// Closed-loop load on an OpenAI-compatible server, like vLLM's serving benchmark: clients stream <c>/v1/completions</c>
/// (or, with <see cref="LoadApi.Ollama"/>, Ollama's <c>/api/generate</c> with a raw prompt: the same tokens) one request after
/// another and time each text chunk. Used by <c>infera bench serve</c> and the serving benchmark.
/// </summary>
internal static class CompletionLoad
{
    /// <summary>Sends <paramref name="count"/> requests from <paramref name="concurrency"/> clients; request <c>i</c> gets <paramref name="prompt"/>(i).</summary>
    public static async Task<LoadLevel> RunLevelAsync(HttpClient http, string modelId, int concurrency, int count, Func<int, string> prompt, int maxTokens, CancellationToken cancellationToken, LoadApi api = LoadApi.OpenAI)
    {
        var results = new StreamedCompletion[count];
        var next = -1;
        var clock = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                results[i] = await SendAsync(http, modelId, prompt(i), maxTokens, cancellationToken, api).ConfigureAwait(false);
            }
        }, cancellationToken));
        await Task.WhenAll(clients).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;

        var ok = results.Where(r => r.Error is null).ToArray();
        var several = ok.Where(r => r.OutputTokens > 1).ToArray();
        return new LoadLevel(
            concurrency,
            count,
            count - ok.Length,
            seconds,
            ok.Length / seconds,
            ok.Sum(r => (long)r.OutputTokens) / seconds,
            ok.Length == 0 ? 0 : ok.Average(r => r.PromptTokens),
            ok.Length == 0 ? 0 : ok.Average(r => r.OutputTokens),
            Percentile(ok.Select(r => r.TimeToFirstTokenMs), 50),
            Percentile(ok.Select(r => r.TimeToFirstTokenMs), 99),
            Percentile(ok.SelectMany(r => r.InterTokenMs), 50),
            Percentile(ok.SelectMany(r => r.InterTokenMs), 99),
            Percentile(several.Select(r => r.TimePerOutputTokenMs), 50),
            Percentile(several.Select(r => r.TimePerOutputTokenMs), 99),
            results.FirstOrDefault(r => r.Error is not null).Error,
            [.. results.Select(r => r.Error is null ? r.Text : null)]);
    }

    /// <summary>One streamed completion: time to the first text chunk, then the gaps between text chunks (one token each).</summary>
    public static async Task<StreamedCompletion> SendAsync(HttpClient http, string modelId, string prompt, int maxTokens, CancellationToken cancellationToken, LoadApi api = LoadApi.OpenAI)
    {
        if (api == LoadApi.Ollama)
        {
            return await SendOllamaAsync(http, modelId, prompt, maxTokens, cancellationToken).ConfigureAwait(false);
        }

        var body = CliJson.Serialize(new Dictionary<string, object>
        {
            ["model"] = modelId,
            ["prompt"] = prompt,
            ["max_tokens"] = maxTokens,
            ["temperature"] = 0,
            ["stream"] = true,
            ["stream_options"] = new Dictionary<string, object> { ["include_usage"] = true },
        });
        var times = new ChunkTimes(maxTokens);
        var completion = new StringBuilder();
        int promptTokens = 0, outputTokens = 0;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return StreamedCompletion.Failed($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
            }

            var events = SseParser.Create(
                await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false),
                (_, data) => data.SequenceEqual("[DONE]"u8) ? StreamedEvent.End : StreamedEvent.Read(data, completion));
            await foreach (var item in events.EnumerateAsync(cancellationToken).ConfigureAwait(false))
            {
                var chunk = item.Data;
                if (chunk.Done)
                {
                    return new StreamedCompletion(times.FirstMs, times.Gaps, promptTokens, outputTokens, null, completion.ToString());
                }

                if (chunk.Error is { } error)
                {
                    return StreamedCompletion.Failed(error);
                }

                promptTokens = chunk.PromptTokens ?? promptTokens;
                outputTokens = chunk.OutputTokens ?? outputTokens;
                if (chunk.HasText)
                {
                    times.Add();
                }
            }

            return StreamedCompletion.Failed("The stream ended without data: [DONE].");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or InvalidOperationException or FormatException)
        {
            return StreamedCompletion.Failed(ex.Message);
        }
    }

    /// <summary>One streamed <c>/api/generate</c> request (raw prompt, greedy): NDJSON lines, the last with <c>done</c> and the token counts.</summary>
    public static async Task<StreamedCompletion> SendOllamaAsync(HttpClient http, string modelId, string prompt, int maxTokens, CancellationToken cancellationToken)
    {
        var body = CliJson.Serialize(new Dictionary<string, object>
        {
            ["model"] = modelId,
            ["prompt"] = prompt,
            ["raw"] = true,
            ["stream"] = true,
            ["options"] = new Dictionary<string, object> { ["num_predict"] = maxTokens, ["temperature"] = 0 },
        });
        var times = new ChunkTimes(maxTokens);
        var completion = new StringBuilder();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/generate") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return StreamedCompletion.Failed($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
            }

            using var lines = new ResponseLines(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
            while (await lines.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (line.IsEmpty)
                {
                    continue;
                }

                var chunk = StreamedEvent.Read(line.Span, completion);
                if (chunk.Error is { } error)
                {
                    return StreamedCompletion.Failed(error);
                }

                if (chunk.HasText)
                {
                    times.Add();
                }

                if (chunk.Done)
                {
                    return new StreamedCompletion(times.FirstMs, times.Gaps, chunk.PromptTokens ?? 0, chunk.OutputTokens ?? 0, null, completion.ToString());
                }
            }

            return StreamedCompletion.Failed("The stream ended without a line with done: true.");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or InvalidOperationException or FormatException)
        {
            return StreamedCompletion.Failed(ex.Message);
        }
    }

    /// <summary>The nearest-rank percentile; 0 for no values.</summary>
    public static double Percentile(IEnumerable<double> values, double percent)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>When a request's text chunks arrived: the time to the first, then the gaps between them, in milliseconds.</summary>
internal sealed class ChunkTimes(int expectedChunks)
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private long _last;

    public double FirstMs { get; private set; }

    public List<double> Gaps { get; } = new(expectedChunks);

    /// <summary>Records a text chunk arriving now.</summary>
    public void Add()
    {
        var now = Stopwatch.GetTimestamp();
        if (_last == 0)
        {
            FirstMs = Stopwatch.GetElapsedTime(_start, now).TotalMilliseconds;
        }
        else
        {
            Gaps.Add(Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds);
        }

        _last = now;
    }
}

/// <summary>The wire protocol a load runs through.</summary>
internal enum LoadApi
{
    /// <summary>OpenAI's streamed <c>/v1/completions</c>.</summary>
    OpenAI,

    /// <summary>Ollama's streamed <c>/api/generate</c> with <c>raw: true</c>.</summary>
    Ollama,
}

/// <summary>One streamed completion's timings and usage, or its error.</summary>
internal readonly record struct StreamedCompletion(double TimeToFirstTokenMs, List<double> InterTokenMs, int PromptTokens, int OutputTokens, string? Error, string Text = "")
{
    /// <summary>Gets the time per output token after the first: the text chunks' span over the tokens after the first.</summary>
    public double TimePerOutputTokenMs => OutputTokens > 1 ? InterTokenMs.Sum() / (OutputTokens - 1) : 0;

    public static StreamedCompletion Failed(string error) => new(0, [], 0, 0, error);
}

/// <summary>What one concurrency level measured (latencies in milliseconds).</summary>
internal sealed record LoadLevel(
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
    double TimePerOutputTokenP50,
    double TimePerOutputTokenP99,
    string? FirstError,
    IReadOnlyList<string?> Texts);
