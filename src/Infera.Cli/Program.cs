using System.CommandLine;
using Infera.Cli.Commands;

var root = new RootCommand("infera: run language models locally with ONNX Runtime GenAI.");
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(ChatCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
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
