using System.Text.RegularExpressions;

namespace Infera.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed partial class MetricsTests(ServerFixture fixture)
{
    [Fact]
    public async Task GetMetrics_AfterChatAndCompletions_HasGenAiHistogramsPerOperationAndModel()
    {
        using var http = fixture.CreateClient();
        using (var completion = await http.PostAsync("/v1/completions", CompletionsTests.Json("""{"model":"stories260K-gqa","prompt":"Once","max_tokens":4}""")))
        {
            completion.EnsureSuccessStatusCode();
        }

        using (var chat = await http.PostAsync("/v1/chat/completions", CompletionsTests.Json("""{"model":"stories260K-onnx","messages":[{"role":"user","content":"Hi"}],"max_tokens":4}""")))
        {
            chat.EnsureSuccessStatusCode();
        }

        Regex[] expected =
        [
            Series("gen_ai_server_request_duration_seconds_count", "gen_ai_operation_name=\"text_completion\"", "gen_ai_request_model=\"stories260K-gqa\""),
            Series("gen_ai_server_request_duration_seconds_count", "gen_ai_operation_name=\"chat\"", "gen_ai_request_model=\"stories260K-onnx\""),
            Series("gen_ai_server_time_to_first_token_seconds_bucket", "gen_ai_request_model=\"stories260K-gqa\""),
            Series("gen_ai_server_time_per_output_token_seconds_bucket", "gen_ai_request_model=\"stories260K-gqa\""),
            Series("gen_ai_server_token_usage_sum", "gen_ai_token_type=\"input\""),
            Series("gen_ai_server_token_usage_sum", "gen_ai_token_type=\"output\""),
        ];
        var text = await ScrapeUntilAsync(http, expected);

        Assert.All(expected, pattern => Assert.Matches(pattern, text));
    }

    [Fact]
    public async Task GetMetrics_TwoModels_ReportEachSchedulingModeAndTheGauges()
    {
        using var http = fixture.CreateClient();

        var text = await ScrapeAsync(http);

        // The GroupQueryAttention model is batched (on static-batch generators); the plain one runs one generator per request, and says so.
        Assert.Matches(Series("infera_scheduling_mode", "gen_ai_request_model=\"stories260K-gqa\"", "infera_scheduling_mode=\"batched\"", "infera_batching=\"generator\""), text);
        Assert.Matches(Series("infera_scheduling_mode", "gen_ai_request_model=\"stories260K-onnx\"", "infera_scheduling_mode=\"per_request\"", "infera_batching=\"none\""), text);
        foreach (var gauge in new[] { "infera_requests_queued", "infera_requests_running", "infera_batch_size", "infera_kv_cache_usage" })
        {
            Assert.Matches(Series(gauge, "gen_ai_request_model=\"stories260K-gqa\""), text);
        }

        Assert.Matches(Series("infera_engine_steps_total", "gen_ai_request_model=\"stories260K-gqa\""), text);
        Assert.Matches(Series("infera_batch_moved_requests_total", "gen_ai_request_model=\"stories260K-gqa\""), text);
    }

    private static async Task<string> ScrapeAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Scrapes until every pattern matches or 10 s pass: a request records its histograms after its response ends.</summary>
    private static async Task<string> ScrapeUntilAsync(HttpClient http, Regex[] patterns)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        var text = await ScrapeAsync(http);
        while (!patterns.All(p => p.IsMatch(text)) && await Tick(timer, deadline.Token))
        {
            text = await ScrapeAsync(http);
        }

        return text;
    }

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A pattern for one series line: the metric name followed by a label set holding every given label.</summary>
    private static Regex Series(string name, params string[] labels) =>
        new("(?m)^" + Regex.Escape(name) + "\\{" + string.Concat(labels.Select(l => "(?=[^}]*" + Regex.Escape(l) + ")")) + "[^}]*\\} ");
}
