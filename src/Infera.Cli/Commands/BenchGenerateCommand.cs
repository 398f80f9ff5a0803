using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Infera.Cli.Commands;

/// <summary><c>infera bench generate</c>: like llama-bench, one warm-up then R greedy runs in one process, reporting medians.</summary>
internal static class BenchGenerateCommand
{
    internal static Command Create()
    {
        var arguments = new GenerationArguments();
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt.", DefaultValueFactory = _ => "Once upon a time" };
        var runs = new Option<int>("--runs", "-r") { Description = "Measured runs after one warm-up.", DefaultValueFactory = _ => 5 };
        var command = new Command("generate", "Time greedy generation: medians of time to first token, prefill and decode tokens/s over R runs after a warm-up.");
        command.Options.Add(prompt);
        arguments.AddTo(command, sampling: false);
        command.Options.Add(runs);

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
            await using var runner = await OnnxModelRunner.LoadAsync(model.ModelDirectory, model.ApplyTo(ModelLocator.RunnerOptions(result.GetValue(arguments.Provider))), null, ct).ConfigureAwait(false);
            var text = result.GetValue(prompt)!;

            await GenerationRun.ExecuteAsync(runner, text, options, [], null, ct).ConfigureAwait(false);
            var measured = new List<GenerationRun>();
            for (var i = 0; i < count; i++)
            {
                measured.Add(await GenerationRun.ExecuteAsync(runner, text, options, [], null, ct).ConfigureAwait(false));
            }

            var ttft = Median(measured.Select(r => r.TimeToFirstTokenMs));
            var prefill = Median(measured.Select(r => r.PrefillTokensPerSecond));
            var decode = Median(measured.Select(r => r.DecodeTokensPerSecond));
            var tokens = Median(measured.Select(r => (double)r.CompletionTokens));
            if (result.GetValue(arguments.Json))
            {
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["timeToFirstTokenMs"] = Math.Round(ttft, 3),
                    ["prefillTokensPerSecond"] = Math.Round(prefill, 1),
                    ["decodeTokensPerSecond"] = Math.Round(decode, 1),
                    ["completionTokens"] = (int)tokens,
                    ["promptTokens"] = measured[0].PromptTokens,
                    ["runs"] = count,
                    ["model"] = runner.Metadata.ModelId,
                })).ConfigureAwait(false);
            }
            else
            {
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"model: {runner.Metadata.ModelId} ({runner.Metadata.ExecutionProvider}, {runner.Metadata.IntraOpThreads} threads), prompt tokens: {measured[0].PromptTokens}, generated tokens: {tokens}, runs: {count}\n" +
                    $"time to first token (median): {ttft:F2} ms\nprefill (median): {prefill:F1} tokens/s\ndecode (median): {decode:F1} tokens/s")).ConfigureAwait(false);
            }

            return 0;
        }, cancellationToken));
        return command;
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
