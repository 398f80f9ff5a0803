using System.CommandLine;
using Infera.Models;

namespace Infera.Cli.Commands;

/// <summary><c>infera cp SRC DST</c>: gives a library model a second name (the model folder is shared, not copied).</summary>
internal static class CopyCommand
{
    internal static Command Create()
    {
        var source = new Argument<string>("source") { Description = "The existing name." };
        var destination = new Argument<string>("destination") { Description = "The new name." };
        var command = new Command("cp", "Copy a library model to a new name (no files are duplicated).");
        command.Arguments.Add(source);
        command.Arguments.Add(destination);
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            using var library = new ModelLibrary();
            var copied = await library.CopyAsync(result.GetValue(source)!, result.GetValue(destination)!, cancellationToken: ct).ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"copied '{ModelName.Parse(result.GetValue(source)!)}' to '{copied.Name}'").ConfigureAwait(false);
            return 0;
        }, cancellationToken));
        return command;
    }
}
