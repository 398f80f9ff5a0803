using System.CommandLine;
using System.Globalization;
using Infera.ModelBuilder;

namespace Infera.Cli.Commands;

/// <summary><c>infera eval perplexity</c>: a model's perplexity on a text, to measure what quantization costs.</summary>
internal static class EvalCommand
{
    internal static Command Create()
    {
        var command = new Command("eval", "Evaluate models.");
        command.Subcommands.Add(CreatePerplexity());
        return command;
    }

    private static Command CreatePerplexity()
    {
        var model = new Option<string>("--model", "-m") { Description = "A library model name (name:tag, org/name), a model folder, a GGUF file or an Ollama model name.", Required = true };
        var text = new Option<string>("--text") { Description = "The text file to score (UTF-8).", Required = true };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Score at most this many tokens (default: the model's context)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object with perplexity and tokens." };
        var threads = new Option<int?>("--threads") { Description = "Threads one CPU operator may use. Default: the model's genai_config.json setting, else ONNX Runtime's default." };
        var command = new Command("perplexity", "Perplexity of a text under a model (lower is better); compare precisions of one model.");
        command.Options.Add(model);
        command.Options.Add(text);
        command.Options.Add(maxTokens);
        command.Options.Add(json);
        command.Options.Add(threads);
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            string path = result.GetValue(text)!;
            if (!File.Exists(path))
            {
                throw new ArgumentException($"Text file not found: {path}.");
            }

            if (result.GetValue(threads) is < 1)
            {
                throw new ArgumentException("--threads must be at least 1.");
            }

            string content = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
            bool asJson = result.GetValue(json);
            using var progress = new ConsoleProgressBar("scoring", !asJson);
            var resolved = await ModelLocator.ResolveAsync(result.GetValue(model), ct).ConfigureAwait(false);
            var measured = await PerplexityEvaluator.EvaluateAsync(resolved.ModelDirectory, content, result.GetValue(maxTokens), result.GetValue(threads), progress, ct).ConfigureAwait(false);
            progress.Dispose();
            if (asJson)
            {
                await Console.Out.WriteLineAsync(CliJson.Serialize(new Dictionary<string, object>
                {
                    ["perplexity"] = measured.Perplexity,
                    ["tokens"] = measured.Tokens,
                    ["meanNegativeLogLikelihood"] = measured.MeanNegativeLogLikelihood,
                    ["truncated"] = measured.Truncated,
                    ["seconds"] = Math.Round(measured.Elapsed.TotalSeconds, 3),
                })).ConfigureAwait(false);
            }
            else
            {
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"perplexity {measured.Perplexity:F4} over {measured.Tokens} tokens{(measured.Truncated ? " (text cut at the context length)" : string.Empty)} in {measured.Elapsed.TotalSeconds:F2} s")).ConfigureAwait(false);
            }

            return 0;
        }, cancellationToken));
        return command;
    }
}
