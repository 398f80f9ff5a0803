using System.CommandLine;
using Infera.Cli.Commands;

// GGUF files and Ollama names load wherever a model folder does (ModelSources), also through InferaChatClient.LoadAsync.
// Library names first (ModelLibrary), then GGUF files and Ollama's local store (GgufImporter).
Infera.Models.ModelLibrary.RegisterModelSource();
Infera.ModelBuilder.GgufImporter.RegisterModelSource();

var root = new RootCommand("infera: run language models locally with ONNX Runtime GenAI.");
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(ChatCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(RouterCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(ProvidersCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(CreateModelCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(PullCommand.Create());
root.Subcommands.Add(ListCommand.Create());
root.Subcommands.Add(ShowCommand.Create());
root.Subcommands.Add(RemoveCommand.Create());
root.Subcommands.Add(CopyCommand.Create());
root.Subcommands.Add(CreateCommand.Create());

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
