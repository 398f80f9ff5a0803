using System.Diagnostics;

namespace Infera.Cli;

/// <summary>One timed generation: the text, token counts, finish reason and timings that generate and bench report.</summary>
internal sealed class GenerationRun
{
    public string Text { get; private set; } = string.Empty;

    public int PromptTokens { get; private set; }

    public int CompletionTokens { get; private set; }

    public GenerationFinishReason FinishReason { get; private set; } = GenerationFinishReason.Stop;

    public double TimeToFirstTokenMs { get; private set; }

    public double DecodeTokensPerSecond { get; private set; }

    public double PrefillTokensPerSecond => TimeToFirstTokenMs > 0 ? PromptTokens / (TimeToFirstTokenMs / 1000.0) : 0;

    /// <summary>
    /// Gets the median time between two consecutive tokens after the first, in microseconds: the typical cost of one decode
    /// step. Unlike the mean (<see cref="DecodeTokensPerSecond"/>) it leaves out the steps during which another process
    /// held the core, so it says what the code costs per token on a busy machine too.
    /// </summary>
    public double MedianTokenGapMicroseconds { get; private set; }

    /// <summary>Gets the decode rate of the median step (1 / <see cref="MedianTokenGapMicroseconds"/>), tokens/s.</summary>
    public double SteadyDecodeTokensPerSecond => MedianTokenGapMicroseconds > 0 ? 1e6 / MedianTokenGapMicroseconds : 0;

    public List<(TokenUpdate Update, string Text)> LogProbabilityTokens { get; } = [];

    public static async Task<GenerationRun> ExecuteAsync(IModelRunner runner, string prompt, GenerationOptions options, IReadOnlyList<string> stops, Action<string>? onText, CancellationToken cancellationToken)
    {
        var run = new GenerationRun();
        var matcher = new StopSequenceMatcher(stops);
        var text = new System.Text.StringBuilder();
        var clock = Stopwatch.StartNew();
        TimeSpan first = default, last = default;
        var gaps = new List<double>(options.MaxNewTokens ?? 256);
        await foreach (var update in runner.GenerateAsync(new GenerationRequest(prompt, options), cancellationToken).ConfigureAwait(false))
        {
            var now = clock.Elapsed;
            if (update.Index == 0)
            {
                first = now;
            }
            else
            {
                gaps.Add((now - last).TotalMicroseconds);
            }

            last = now;
            run.PromptTokens = update.PromptTokenCount;
            run.CompletionTokens = update.Index + 1;
            run.FinishReason = update.FinishReason ?? run.FinishReason;
            if (update.LogProbabilities is not null)
            {
                run.LogProbabilityTokens.Add((update, update.Text));
            }

            var piece = matcher.Append(update.Text);
            if (piece.Length > 0)
            {
                text.Append(piece);
                onText?.Invoke(piece);
            }

            if (matcher.IsStopped)
            {
                run.FinishReason = GenerationFinishReason.Stop;
                break;
            }
        }

        var tail = matcher.Flush();
        if (tail.Length > 0)
        {
            text.Append(tail);
            onText?.Invoke(tail);
        }

        run.Text = text.ToString();
        run.TimeToFirstTokenMs = first.TotalMilliseconds;
        var decodeSeconds = (last - first).TotalSeconds;
        run.DecodeTokensPerSecond = run.CompletionTokens > 1 && decodeSeconds > 0 ? (run.CompletionTokens - 1) / decodeSeconds : 0;
        run.MedianTokenGapMicroseconds = Statistics.Median(gaps);
        return run;
    }
}
