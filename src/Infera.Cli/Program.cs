using System.CommandLine;
using Infera.Cli.Commands;

// GGUF files and Ollama names load wherever a model folder does (ModelSources), also through InferaChatClient.LoadAsync.
Infera.ModelBuilder.GgufImporter.RegisterModelSource();

var root = new RootCommand("infera: run language models locally with ONNX Runtime GenAI.");
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(ChatCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(ProvidersCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(CreateModelCommand.Create());
root.Subcommands.Add(EvalCommand.Create());

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
