using System.CommandLine;

namespace Infera.Cli.Commands;

/// <summary>The options generate, chat and bench share.</summary>
internal sealed class GenerationArguments
{
    public Option<string?> Model { get; } = new("--model", "-m") { Description = "A library model name (name:tag, org/name; see infera list) or an ONNX Runtime GenAI model folder. Without it, the built-in stories260K model (TinyStories) is used." };

    public Option<int?> MaxTokens { get; } = new("--max-tokens", "-n") { Description = "The most new tokens to generate (the prompt is not counted). generate: 256 by default." };

    public Option<float?> Temperature { get; } = new("--temperature", "-t") { Description = "Sampling temperature, 0 to 2; 0 is greedy." };

    public Option<float?> TopP { get; } = new("--top-p") { Description = "Nucleus sampling mass, in (0, 1]." };

    public Option<int?> TopK { get; } = new("--top-k") { Description = "Sample from the K most likely tokens." };

    public Option<long?> Seed { get; } = new("--seed") { Description = "Seed of the random source: the same seed and options give the same text." };

    public Option<string[]> Stop { get; } = new("--stop") { Description = "A stop sequence (repeatable); the stop text is not printed.", AllowMultipleArgumentsPerToken = false };

    public Option<string?> Provider { get; } = new("--provider") { Description = "Execution provider: cpu, cuda, directml or coreml. Default: cpu." };

    public Option<bool> Json { get; } = new("--json") { Description = "Print one JSON object on stdout instead of streaming text." };

    public void AddTo(Command command, bool sampling = true)
    {
        command.Options.Add(Model);
        command.Options.Add(MaxTokens);
        if (sampling)
        {
            command.Options.Add(Temperature);
            command.Options.Add(TopP);
            command.Options.Add(TopK);
            command.Options.Add(Seed);
            command.Options.Add(Stop);
        }

        command.Options.Add(Provider);
        command.Options.Add(Json);
    }

    public GenerationOptions ToOptions(ParseResult result) => new()
    {
        MaxNewTokens = result.GetValue(MaxTokens),
        Temperature = result.GetValue(Temperature),
        TopP = result.GetValue(TopP),
        TopK = result.GetValue(TopK),
        Seed = result.GetValue(Seed),
    };
}
