using System.CommandLine;
using Infera.Cli.Commands;

// Before any command reaches ONNX Runtime (a runner, the benchmark's plain GenAI loop, the evaluator): no telemetry
// uploader unless ORT_DISABLE_TELEMETRY says otherwise.
Infera.OnnxRuntimeTelemetry.TurnOffUnlessSet();

// GGUF files and Ollama names load wherever a model folder does (ModelSources), also through InferaChatClient.LoadAsync.
// Library names first (ModelLibrary), then GGUF files and Ollama's local store (GgufImporter).
Infera.Models.ModelLibrary.RegisterModelSource();
Infera.ModelBuilder.GgufImporter.RegisterModelSource();

var commands = new (string Name, Func<Command> Create)[]
{
    ("generate", GenerateCommand.Create),
    ("chat", ChatCommand.Create),
    ("serve", ServeCommand.Create),
    ("router", RouterCommand.Create),
    ("bench", BenchCommand.Create),
    ("providers", ProvidersCommand.Create),
    ("convert", ConvertCommand.Create),
    ("create-model", CreateModelCommand.Create),
    ("eval", EvalCommand.Create),
    ("pull", PullCommand.Create),
    ("list", ListCommand.Create),
    ("show", ShowCommand.Create),
    ("rm", RemoveCommand.Create),
    ("cp", CopyCommand.Create),
    ("create", CreateCommand.Create),
};

// A command line that names a command needs only that command's definition: the others are built (and their code
// compiled) only when the root itself is asked for — no command, --help, --version, an alias, or a mistyped name that
// deserves suggestions. This keeps their start-up work out of a one-shot command's time to first token.
var named = args.Length > 0 ? Array.FindIndex(commands, c => c.Name == args[0]) : -1;
var root = new RootCommand("infera: run language models locally with ONNX Runtime GenAI.");
for (var i = 0; i < commands.Length; i++)
{
    if (named < 0 || i == named)
    {
        root.Subcommands.Add(commands[i].Create());
    }
}

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
