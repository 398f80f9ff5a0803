using System.CommandLine;
using Microsoft.Extensions.AI;

namespace Infera.Cli.Commands;

/// <summary><c>infera chat</c>: an interactive, streaming conversation that keeps its history.</summary>
internal static class ChatCommand
{
    internal static Command Create()
    {
        var arguments = new GenerationArguments();
        var system = new Option<string?>("--system") { Description = "Instructions (a system message) for the whole conversation." };
        var command = new Command("chat", "Chat with a model interactively. Type /exit or end input (Ctrl+D) to leave, /reset to forget the conversation.");
        arguments.AddTo(command);
        command.Options.Add(system);

        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var model = await ModelLocator.ResolveAsync(result.GetValue(arguments.Model), ct).ConfigureAwait(false);
            using var client = await InferaChatClient.LoadAsync(model.ModelDirectory, model.ApplyTo(ModelLocator.RunnerOptions(result.GetValue(arguments.Provider))), cancellationToken: ct).ConfigureAwait(false);
            var generation = arguments.ToOptions(result);
            var options = model.ApplyTo(new ChatOptions
            {
                MaxOutputTokens = generation.MaxNewTokens ?? model.Parameters.MaxOutputTokens ?? 256,
                Temperature = generation.Temperature,
                TopP = generation.TopP,
                TopK = generation.TopK,
                Seed = generation.Seed,
                Instructions = result.GetValue(system) ?? model.System,
                StopSequences = result.GetValue(arguments.Stop) is { Length: > 0 } stops ? stops : null,
            });
            var history = new List<ChatMessage>();
            await Console.Error.WriteLineAsync($"infera chat: {client.Runner.Metadata.ModelId} ({client.Runner.Metadata.ExecutionProvider}). /exit to leave, /reset to start over.").ConfigureAwait(false);
            while (!ct.IsCancellationRequested)
            {
                await Console.Out.WriteAsync("> ").ConfigureAwait(false);
                var line = await Console.In.ReadLineAsync(ct).ConfigureAwait(false);
                if (line is null || line.Trim() == "/exit")
                {
                    break;
                }

                if (line.Trim() == "/reset")
                {
                    history.Clear();
                    continue;
                }

                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                history.Add(new ChatMessage(ChatRole.User, line));
                var updates = new List<ChatResponseUpdate>();
                await foreach (var update in client.GetStreamingResponseAsync(history, options, ct).ConfigureAwait(false))
                {
                    updates.Add(update);
                    await Console.Out.WriteAsync(update.Text).ConfigureAwait(false);
                    await Console.Out.FlushAsync(ct).ConfigureAwait(false);
                }

                await Console.Out.WriteLineAsync().ConfigureAwait(false);
                history.AddMessages(updates);
            }

            return 0;
        }, cancellationToken));
        return command;
    }
}
