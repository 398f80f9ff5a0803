using System.CommandLine;
using System.Globalization;

namespace Infera.Cli.Commands;

/// <summary><c>infera generate</c>: complete a prompt, streaming the completion to stdout and statistics to stderr.</summary>
internal static class GenerateCommand
{
    private const int DefaultMaxTokens = 256;


    internal static Command Create()
    {
        var arguments = new GenerationArguments();
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt to complete.", DefaultValueFactory = _ => "Once upon a time" };
        var logprobs = new Option<int?>("--logprobs") { Description = "Report the log-probability of each token and its N most likely alternatives (0-20); with --json, as logprobs." };
        var command = new Command("generate", "Complete a prompt with a model: the completion on stdout, statistics on stderr.");
        command.Options.Add(prompt);
        arguments.AddTo(command);
        command.Options.Add(logprobs);

        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var model = await ModelLocator.ResolveAsync(result.GetValue(arguments.Model), ct).ConfigureAwait(false);
            var options = model.ApplyTo(arguments.ToOptions(result));
            if (options.MaxNewTokens is null)
            {
                // Without --max-tokens: up to 256 new tokens, fewer where the context ends first.
                options.MaxNewTokens = DefaultMaxTokens;
                options.ContextOverflow = ContextOverflowPolicy.LimitNewTokens;
            }

            if (result.GetValue(logprobs) is int n)
            {
                options.LogProbabilities = true;
                options.TopLogProbabilities = n;
            }

            options.Validate();
            var json = result.GetValue(arguments.Json);
            var runnerOptions = model.ApplyTo(arguments.RunnerOptions(result));

            // One request and the process ends: no later request could continue a kept sequence, so the generator gets
            // room for this request only instead of the prefix cache's room for a conversation to grow.
            runnerOptions.PrefixCacheBytes = 0;
            await using var runner = await OnnxModelRunner.LoadAsync(model.ModelDirectory, runnerOptions, null, ct).ConfigureAwait(false);

            var stdout = Console.Out;
            var run = await GenerationRun.ExecuteAsync(
                runner,
                result.GetValue(prompt)!,
                options,
                result.GetValue(arguments.Stop) is { Length: > 0 } stops ? stops : [.. model.Parameters.Stop],
                json ? null : piece => { stdout.Write(piece); stdout.Flush(); },
                ct).ConfigureAwait(false);

            if (json)
            {
                var document = new Dictionary<string, object?>
                {
                    ["text"] = run.Text,
                    ["promptTokens"] = run.PromptTokens,
                    ["completionTokens"] = run.CompletionTokens,
                    ["finishReason"] = run.FinishReason == GenerationFinishReason.Length ? "length" : "stop",
                    ["timeToFirstTokenMs"] = Math.Round(run.TimeToFirstTokenMs, 3),
                    ["decodeTokensPerSecond"] = Math.Round(run.DecodeTokensPerSecond, 1),
                    ["model"] = runner.Metadata.ModelId,
                    ["provider"] = runner.Metadata.ExecutionProvider,
                };
                if (options.LogProbabilities)
                {
                    document["logprobs"] = run.LogProbabilityTokens.Select(t => new Dictionary<string, object?>
                    {
                        ["token"] = t.Text,
                        ["tokenId"] = t.Update.TokenId,
                        ["logprob"] = t.Update.LogProbabilities!.LogProbability,
                        ["topLogprobs"] = t.Update.LogProbabilities.TopAlternatives.Select(a => new Dictionary<string, object?> { ["token"] = a.Text, ["tokenId"] = a.TokenId, ["logprob"] = a.LogProbability }).ToArray(),
                    }).ToArray();
                }

                await stdout.WriteLineAsync(CliJson.Serialize(document)).ConfigureAwait(false);
            }
            else
            {
                await stdout.WriteLineAsync().ConfigureAwait(false);
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"prompt tokens: {run.PromptTokens}, generated tokens: {run.CompletionTokens}, finish: {(run.FinishReason == GenerationFinishReason.Length ? "length" : "stop")}, time to first token: {run.TimeToFirstTokenMs:F1} ms, decode: {run.DecodeTokensPerSecond:F1} tokens/s ({runner.Metadata.ExecutionProvider}, {ModelLocator.Threads(runner.Metadata)})")).ConfigureAwait(false);
            }

            return 0;
        }, cancellationToken));
        return command;
    }
}
