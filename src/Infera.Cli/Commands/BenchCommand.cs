using System.CommandLine;

namespace Infera.Cli.Commands;

/// <summary><c>infera bench</c>: benchmarks (<c>generate</c>: one model in-process; <c>serve</c>: load on an OpenAI-compatible server).</summary>
internal static class BenchCommand
{
    internal static Command Create()
    {
        var command = new Command("bench", "Measure speed: time to first token, prefill and decode tokens/s, serving load.");
        command.Subcommands.Add(BenchGenerateCommand.Create());
        command.Subcommands.Add(BenchServeCommand.Create());
        return command;
    }
}
