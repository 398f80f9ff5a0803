using System.CommandLine;
using Infera.Models;

namespace Infera.Cli.Commands;

/// <summary><c>infera create NAME -f Modelfile</c>: a library model from an Ollama-style Modelfile.</summary>
internal static class CreateCommand
{
    internal static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The new model's name (name[:tag])." };
        var file = new Option<string>("--file", "-f") { Description = "The Modelfile (FROM, PARAMETER, SYSTEM, TEMPLATE as Jinja, LICENSE). Default: ./Modelfile.", DefaultValueFactory = _ => "Modelfile" };
        var force = new Option<bool>("--force") { Description = "Replace an existing model of that name." };
        var command = new Command("create", "Create a library model from a Modelfile: FROM a library model, an ONNX Runtime GenAI folder or a GGUF file, with default parameters, system message and chat template.");
        command.Arguments.Add(name);
        command.Options.Add(file);
        command.Options.Add(force);
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var path = result.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new ArgumentException($"Modelfile not found: {path}.");
            }

            var text = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
            using var library = new ModelLibrary();
            ModelInfo created;
            using (var progress = new PullProgressPrinter())
            {
                created = await library.CreateAsync(result.GetValue(name)!, text, new ModelCreateOptions { BaseDirectory = Path.GetDirectoryName(Path.GetFullPath(path)), Overwrite = result.GetValue(force) }, progress, ct).ConfigureAwait(false);
            }

            await Console.Out.WriteLineAsync($"created '{created.Name}' ({created.Manifest.Source.From ?? created.ModelDirectory})").ConfigureAwait(false);
            return 0;
        }, cancellationToken));
        return command;
    }
}
