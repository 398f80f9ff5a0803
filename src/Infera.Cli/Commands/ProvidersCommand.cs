using System.CommandLine;

namespace Infera.Cli.Commands;

/// <summary><c>infera providers</c>: lists each execution provider, whether it can run here and why not.</summary>
internal static class ProvidersCommand
{
    internal static Command Create()
    {
        var command = new Command("providers", "List the execution providers, whether each is available here, and why not.");
        command.SetAction(async (_, _) =>
        {
            foreach (var name in ExecutionProviders.Names)
            {
                var availability = ExecutionProviders.GetAvailability(name);
                var status = availability.IsAvailable ? "available" : "not available: " + availability.Missing;
                await Console.Out.WriteLineAsync($"{name,-9} {status}").ConfigureAwait(false);
                if (!availability.IsAvailable)
                {
                    await Console.Out.WriteLineAsync($"          probed: {string.Join("; ", availability.Probed)}").ConfigureAwait(false);
                }
            }

            return 0;
        });
        return command;
    }
}
