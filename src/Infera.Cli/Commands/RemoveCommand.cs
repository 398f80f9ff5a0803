using System.CommandLine;
using Infera.Models;

namespace Infera.Cli.Commands;

/// <summary><c>infera rm NAME</c>: removes a model from the library.</summary>
internal static class RemoveCommand
{
    internal static Command Create()
    {
        var names = new Argument<string[]>("name") { Description = "The library names to remove.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("rm", "Remove models from the library (the Hugging Face cache keeps its files).");
        command.Arguments.Add(names);
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            using var library = new ModelLibrary();
            foreach (var name in result.GetValue(names)!)
            {
                if (!await library.RemoveAsync(name, ct).ConfigureAwait(false))
                {
                    throw new ModelNotFoundException($"Model '{name}' is not in the library; see 'infera list'.");
                }

                await Console.Out.WriteLineAsync($"deleted '{ModelName.Parse(name)}'").ConfigureAwait(false);
            }

            return 0;
        }, cancellationToken));
        return command;
    }
}
