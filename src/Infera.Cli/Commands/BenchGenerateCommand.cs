using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Infera.Cli.Bench;

namespace Infera.Cli.Commands;

/// <summary><c>infera bench generate</c>: like llama-bench, one warm-up then R greedy runs in one process, reporting medians.</summary>
internal static class BenchGenerateCommand
{
    internal static Command Create()
    {
        var arguments = new GenerationArguments();
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt.", DefaultValueFactory = _ => "Once upon a time" };
        var runs = new Option<int>("--runs", "-r") { Description = "Measured runs after one warm-up.", DefaultValueFactory = _ => 5 };
        var baseline = new Option<bool>("--baseline") { Description = "Also time a plain ONNX Runtime GenAI loop (the same folder with GenAI's own settings, greedy, decoding text), alternating with Infera's runs, and print the ratio." };
        var command = new Command("generate", "Time greedy generation: medians of time to first token, prefill and decode tokens/s over R runs after a warm-up.");
        command.Options.Add(prompt);
        arguments.AddTo(command, sampling: false);
        command.Options.Add(runs);
        command.Options.Add(baseline);

        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var count = result.GetValue(runs);
            if (count < 1)
            {
                throw new ArgumentOutOfRangeException("--runs", count, "--runs must be at least 1.");
            }

            var options = new GenerationOptions { Temperature = 0, MaxNewTokens = result.GetValue(arguments.MaxTokens) ?? 128 };
            options.Validate();
            var model = await ModelLocator.ResolveAsync(result.GetValue(arguments.Model), ct).ConfigureAwait(false);
            var modelPath = model.ModelDirectory;
            await using var runner = await OnnxModelRunner.LoadAsync(modelPath, model.ApplyTo(arguments.RunnerOptions(result)), null, ct).ConfigureAwait(false);
            var text = result.GetValue(prompt)!;

            using var peer = result.GetValue(baseline) ? new GenAIBaselineLoop(modelPath) : null;
            var peerRuns = new List<(double TimeToFirstTokenMs, double DecodeTokensPerSecond, int Tokens)>();
            await GenerationRun.ExecuteAsync(runner, text, options, [], null, ct).ConfigureAwait(false);
            peer?.Run(text, options.MaxNewTokens!.Value);
            var measured = new List<GenerationRun>();
            TimeSpan inferaCpu = default, peerCpu = default;
            for (var i = 0; i < count; i++)
            {
                // Alternate which goes first: the one that runs right after the other finds its weights cold in the caches.
                if (peer is { } first && i % 2 == 1)
                {
                    peerRuns.Add(Timed(() => first.Run(text, options.MaxNewTokens!.Value), ref peerCpu));
                }

                var cpuBefore = ProcessorTime();
                measured.Add(await GenerationRun.ExecuteAsync(runner, text, options, [], null, ct).ConfigureAwait(false));
                inferaCpu += ProcessorTime() - cpuBefore;
                if (peer is { } second && i % 2 == 0)
                {
                    peerRuns.Add(Timed(() => second.Run(text, options.MaxNewTokens!.Value), ref peerCpu));
                }
            }

            var ttft = Median(measured.Select(r => r.TimeToFirstTokenMs));
            var prefill = Median(measured.Select(r => r.PrefillTokensPerSecond));
            var decode = Median(measured.Select(r => r.DecodeTokensPerSecond));
            var tokens = Median(measured.Select(r => (double)r.CompletionTokens));
            // Processor time per token (all threads of the process): what a run costs, less sensitive to a busy machine than wall time.
            var cpuPerToken = inferaCpu.TotalMicroseconds / measured.Sum(r => r.CompletionTokens);
            var peerCpuPerToken = peerRuns.Count > 0 ? peerCpu.TotalMicroseconds / peerRuns.Sum(r => r.Tokens) : 0;
            var peerTtft = Median(peerRuns.Select(r => r.TimeToFirstTokenMs));
            var peerDecode = Median(peerRuns.Select(r => r.DecodeTokensPerSecond));
            if (result.GetValue(arguments.Json))
            {
                var document = new Dictionary<string, object>
                {
                    ["timeToFirstTokenMs"] = Math.Round(ttft, 3),
                    ["prefillTokensPerSecond"] = Math.Round(prefill, 1),
                    ["decodeTokensPerSecond"] = Math.Round(decode, 1),
                    ["completionTokens"] = (int)tokens,
                    ["promptTokens"] = measured[0].PromptTokens,
                    ["runs"] = count,
                    ["model"] = runner.Metadata.ModelId,
                    ["cpuMicrosecondsPerToken"] = Math.Round(cpuPerToken, 1),
                    ["threads"] = runner.Metadata.IntraOpThreads ?? 0,
                    ["threadsReason"] = runner.IntraOpThreadsReason,
                };
                if (peer is not null)
                {
                    document["baselineTimeToFirstTokenMs"] = Math.Round(peerTtft, 3);
                    document["baselineDecodeTokensPerSecond"] = Math.Round(peerDecode, 1);
                    document["baselineCompletionTokens"] = (int)Median(peerRuns.Select(r => (double)r.Tokens));
                    document["decodeRatio"] = Math.Round(decode / peerDecode, 3);
                    document["baselineCpuMicrosecondsPerToken"] = Math.Round(peerCpuPerToken, 1);
                }

                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(document)).ConfigureAwait(false);
            }
            else
            {
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"model: {runner.Metadata.ModelId} ({runner.Metadata.ExecutionProvider}, {ModelLocator.Threads(runner.Metadata)}: {runner.IntraOpThreadsReason}), prompt tokens: {measured[0].PromptTokens}, generated tokens: {tokens}, runs: {count}\n" +
                    $"time to first token (median): {ttft:F2} ms\nprefill (median): {prefill:F1} tokens/s\ndecode (median): {decode:F1} tokens/s\nprocessor time: {cpuPerToken:F1} µs per token")).ConfigureAwait(false);
                if (peer is not null)
                {
                    await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"baseline, a plain ONNX Runtime GenAI loop with GenAI's own settings (alternating runs): time to first token {peerTtft:F2} ms, decode {peerDecode:F1} tokens/s, processor time {peerCpuPerToken:F1} µs per token\n" +
                        $"infera / baseline: decode {decode / peerDecode:F3}x, time to first token {ttft / peerTtft:F3}x, processor time per token {cpuPerToken / peerCpuPerToken:F3}x")).ConfigureAwait(false);
                }
            }

            return 0;
        }, cancellationToken));
        return command;
    }

    private static TimeSpan ProcessorTime()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static T Timed<T>(Func<T> run, ref TimeSpan total)
    {
        var before = ProcessorTime();
        var result = run();
        total += ProcessorTime() - before;
        return result;
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
