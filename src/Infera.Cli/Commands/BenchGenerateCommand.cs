using System.CommandLine;
using System.Globalization;
using Infera.Cli.Bench;

namespace Infera.Cli.Commands;

/// <summary>
/// <c>infera bench generate</c>: like llama-bench, warm-up runs then R greedy runs in one process, reporting medians; with
/// <c>--baseline</c>, a plain ONNX Runtime GenAI loop runs in the same rounds and every measure is also compared round by round.
/// </summary>
internal static class BenchGenerateCommand
{
    private const int DefaultRuns = 5;
    private const int DefaultBaselineRuns = 30;
    private const int DefaultWarmup = 1;
    private const int DefaultBaselineWarmup = 10;

    internal static Command Create()
    {
        var arguments = new GenerationArguments();
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt.", DefaultValueFactory = _ => "Once upon a time" };
        var runs = new Option<int?>("--runs", "-r") { Description = $"Measured runs after the warm-up ({DefaultRuns}; {DefaultBaselineRuns} rounds with --baseline)." };
        var warmup = new Option<int?>("--warmup") { Description = $"Runs before measuring, not counted ({DefaultWarmup}; {DefaultBaselineWarmup} rounds of both with --baseline), so that both contestants run warm, JIT-optimized code." };
        var baseline = new Option<bool>("--baseline") { Description = "Also time a plain ONNX Runtime GenAI loop (the same folder with GenAI's own settings, greedy, decoding text) in the same rounds, alternating which runs first, and print the medians of the per-round ratios." };
        var command = new Command("generate", "Time greedy generation: medians of time to first token, prefill and decode tokens/s over R runs after a warm-up.");
        command.Options.Add(prompt);
        arguments.AddTo(command, sampling: false);
        command.Options.Add(runs);
        command.Options.Add(warmup);
        command.Options.Add(baseline);

        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var withBaseline = result.GetValue(baseline);
            var count = result.GetValue(runs) ?? (withBaseline ? DefaultBaselineRuns : DefaultRuns);
            if (count < 1)
            {
                throw new ArgumentOutOfRangeException("--runs", count, "--runs must be at least 1.");
            }

            var warmupCount = result.GetValue(warmup) ?? (withBaseline ? DefaultBaselineWarmup : DefaultWarmup);
            if (warmupCount < 0)
            {
                throw new ArgumentOutOfRangeException("--warmup", warmupCount, "--warmup must not be negative.");
            }

            var options = new GenerationOptions { Temperature = 0, MaxNewTokens = result.GetValue(arguments.MaxTokens) ?? 128 };
            options.Validate();
            var maxNewTokens = options.MaxNewTokens!.Value;
            var model = await ModelLocator.ResolveAsync(result.GetValue(arguments.Model), ct).ConfigureAwait(false);
            var modelPath = model.ModelDirectory;
            await using var runner = await OnnxModelRunner.LoadAsync(modelPath, model.ApplyTo(arguments.RunnerOptions(result)), null, ct).ConfigureAwait(false);
            var text = result.GetValue(prompt)!;

            using var peer = withBaseline ? new GenAIBaselineLoop(modelPath) : null;
            for (var i = 0; i < warmupCount; i++)
            {
                await GenerationRun.ExecuteAsync(runner, text, options, [], null, ct).ConfigureAwait(false);
                peer?.Run(text, maxNewTokens);
            }

            var measured = new List<GenerationRun>(count);
            var inferaCpu = new List<double>(count);
            var peerRuns = new List<BaselineRun>(count);
            var peerCpu = new List<double>(count);
            for (var i = 0; i < count; i++)
            {
                // Alternate which runs first (ABBA...): the one that follows the other finds its weights cold in the caches.
                var peerFirst = i % 2 == 1;
                if (peer is not null && peerFirst)
                {
                    RunPeer(peer, text, maxNewTokens, peerRuns, peerCpu);
                }

                var before = Environment.CpuUsage.TotalTime;
                var run = await GenerationRun.ExecuteAsync(runner, text, options, [], null, ct).ConfigureAwait(false);
                inferaCpu.Add(PerToken(Environment.CpuUsage.TotalTime - before, run.CompletionTokens));
                measured.Add(run);
                if (peer is not null && !peerFirst)
                {
                    RunPeer(peer, text, maxNewTokens, peerRuns, peerCpu);
                }
            }

            var ttft = Statistics.Median(measured.Select(r => r.TimeToFirstTokenMs));
            var prefill = Statistics.Median(measured.Select(r => r.PrefillTokensPerSecond));
            var decode = Statistics.Median(measured.Select(r => r.DecodeTokensPerSecond));
            var steady = Statistics.Median(measured.Select(r => r.SteadyDecodeTokensPerSecond));
            var tokens = Statistics.Median(measured.Select(r => (double)r.CompletionTokens));

            // Processor time per token (all threads of the process, microsecond resolution): what a run costs, less
            // sensitive to a busy machine than wall time.
            var cpuPerToken = Statistics.Median(inferaCpu);
            BaselineComparison? comparison = peer is null ? null : Compare(measured, inferaCpu, peerRuns, peerCpu);
            if (result.GetValue(arguments.Json))
            {
                var document = new Dictionary<string, object>
                {
                    ["timeToFirstTokenMs"] = Math.Round(ttft, 3),
                    ["prefillTokensPerSecond"] = Math.Round(prefill, 1),
                    ["decodeTokensPerSecond"] = Math.Round(decode, 1),
                    ["steadyDecodeTokensPerSecond"] = Math.Round(steady, 1),
                    ["completionTokens"] = (int)tokens,
                    ["promptTokens"] = measured[0].PromptTokens,
                    ["runs"] = count,
                    ["warmupRuns"] = warmupCount,
                    ["model"] = runner.Metadata.ModelId,
                    ["cpuMicrosecondsPerToken"] = Math.Round(cpuPerToken, 1),
                    ["threads"] = runner.Metadata.IntraOpThreads ?? 0,
                    ["threadsReason"] = runner.IntraOpThreadsReason,
                };
                if (comparison is { } c)
                {
                    document["baselineTimeToFirstTokenMs"] = Math.Round(c.PeerTimeToFirstTokenMs, 3);
                    document["baselineDecodeTokensPerSecond"] = Math.Round(c.PeerDecode, 1);
                    document["baselineSteadyDecodeTokensPerSecond"] = Math.Round(c.PeerSteadyDecode, 1);
                    document["baselineCompletionTokens"] = c.PeerTokens;
                    document["baselineCpuMicrosecondsPerToken"] = Math.Round(c.PeerCpuPerToken, 1);
                    document["decodeRatio"] = Math.Round(c.Decode.Median, 3);
                    document["decodeRatioQuartiles"] = new[] { Math.Round(c.Decode.LowerQuartile, 3), Math.Round(c.Decode.UpperQuartile, 3) };
                    document["steadyDecodeRatio"] = Math.Round(c.SteadyDecode.Median, 3);
                    document["steadyDecodeRatioQuartiles"] = new[] { Math.Round(c.SteadyDecode.LowerQuartile, 3), Math.Round(c.SteadyDecode.UpperQuartile, 3) };
                    document["timeToFirstTokenRatio"] = Math.Round(c.TimeToFirstToken.Median, 3);
                    document["cpuPerTokenRatio"] = Math.Round(c.CpuPerToken.Median, 3);
                    document["overheadMicrosecondsPerToken"] = Math.Round(c.OverheadMicroseconds.Median, 2);
                }

                await Console.Out.WriteLineAsync(CliJson.Serialize(document)).ConfigureAwait(false);
            }
            else
            {
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"model: {runner.Metadata.ModelId} ({runner.Metadata.ExecutionProvider}, {ModelLocator.Threads(runner.Metadata)}: {runner.IntraOpThreadsReason}), prompt tokens: {measured[0].PromptTokens}, generated tokens: {tokens}, runs: {count} after {warmupCount} warm-up\n" +
                    $"time to first token (median): {ttft:F2} ms\nprefill (median): {prefill:F1} tokens/s\ndecode (median): {decode:F1} tokens/s (median step: {steady:F1} tokens/s)\nprocessor time (median): {cpuPerToken:F1} µs per token")).ConfigureAwait(false);
                if (comparison is { } c)
                {
                    await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"baseline, a plain ONNX Runtime GenAI loop with GenAI's own settings (same rounds, alternating): time to first token {c.PeerTimeToFirstTokenMs:F2} ms, decode {c.PeerDecode:F1} tokens/s (median step: {c.PeerSteadyDecode:F1} tokens/s), processor time {c.PeerCpuPerToken:F1} µs per token\n" +
                        $"infera / baseline, median of {count} per-round ratios [quartiles]: decode {Format(c.Decode)}, median step {Format(c.SteadyDecode)}, time to first token {Format(c.TimeToFirstToken)}, processor time per token {Format(c.CpuPerToken)}\n" +
                        $"added per token (median step, infera - baseline): {c.OverheadMicroseconds.Median:+0.0;-0.0} µs [{c.OverheadMicroseconds.LowerQuartile:+0.0;-0.0}, {c.OverheadMicroseconds.UpperQuartile:+0.0;-0.0}]")).ConfigureAwait(false);
                }
            }

            return 0;
        }, cancellationToken));
        return command;
    }

    private static void RunPeer(GenAIBaselineLoop peer, string text, int maxNewTokens, List<BaselineRun> runs, List<double> cpu)
    {
        var before = Environment.CpuUsage.TotalTime;
        var run = peer.Run(text, maxNewTokens);
        cpu.Add(PerToken(Environment.CpuUsage.TotalTime - before, run.Tokens));
        runs.Add(run);
    }

    private static double PerToken(TimeSpan time, int tokens) => tokens > 0 ? time.TotalMicroseconds / tokens : 0;

    private static string Format(PairedSummary s) => string.Create(CultureInfo.InvariantCulture, $"{s.Median:F3}x [{s.LowerQuartile:F3}, {s.UpperQuartile:F3}]");

    private static BaselineComparison Compare(List<GenerationRun> infera, List<double> inferaCpu, List<BaselineRun> peer, List<double> peerCpu) => new(
        Statistics.Median(peer.Select(r => r.TimeToFirstTokenMs)),
        Statistics.Median(peer.Select(r => r.DecodeTokensPerSecond)),
        Statistics.Median(peer.Select(r => r.SteadyDecodeTokensPerSecond)),
        (int)Statistics.Median(peer.Select(r => (double)r.Tokens)),
        Statistics.Median(peerCpu),
        Statistics.Paired([.. infera.Select(r => r.DecodeTokensPerSecond)], [.. peer.Select(r => r.DecodeTokensPerSecond)]),
        Statistics.Paired([.. infera.Select(r => r.SteadyDecodeTokensPerSecond)], [.. peer.Select(r => r.SteadyDecodeTokensPerSecond)]),
        Statistics.Paired([.. infera.Select(r => r.TimeToFirstTokenMs)], [.. peer.Select(r => r.TimeToFirstTokenMs)]),
        Statistics.Paired(inferaCpu, peerCpu),
        Statistics.Paired([.. infera.Select(r => r.MedianTokenGapMicroseconds)], [.. peer.Select(r => r.MedianTokenGapMicroseconds)], difference: true));

    private readonly record struct BaselineComparison(
        double PeerTimeToFirstTokenMs,
        double PeerDecode,
        double PeerSteadyDecode,
        int PeerTokens,
        double PeerCpuPerToken,
        PairedSummary Decode,
        PairedSummary SteadyDecode,
        PairedSummary TimeToFirstToken,
        PairedSummary CpuPerToken,
        PairedSummary OverheadMicroseconds);
}
