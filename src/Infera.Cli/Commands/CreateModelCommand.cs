using System.CommandLine;
using Infera.ModelBuilder;

namespace Infera.Cli.Commands;

/// <summary><c>infera create-model</c>: writes a seeded random-weight model at any Llama-family shape, for benchmarks.</summary>
internal static class CreateModelCommand
{
    internal static Command Create()
    {
        var shared = new ModelBuilderArguments();
        var arch = new Option<string>("--arch") { Description = "Architecture: llama, qwen2, mistral or phi3.", DefaultValueFactory = _ => "llama" };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size.", Required = true };
        var layers = new Option<int>("--layers") { Description = "Decoder layers.", Required = true };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", Required = true };
        var kvHeads = new Option<int?>("--kv-heads") { Description = "Key/value heads (default: --heads)." };
        var headSize = new Option<int?>("--head-size") { Description = "Head size (default: hidden / heads)." };
        var intermediate = new Option<int>("--intermediate") { Description = "Feed-forward size.", Required = true };
        var vocab = new Option<int>("--vocab") { Description = "Vocabulary size (at least 259).", Required = true };
        var untied = new Option<bool>("--untied") { Description = "Give the language-model head its own weights instead of sharing the embedding." };
        var seed = new Option<int>("--seed") { Description = "Seed of the random weights.", DefaultValueFactory = _ => 0 };
        var command = new Command("create-model", "Create a model with seeded random weights at any shape (e.g. Qwen2.5-0.5B's), for benchmarks.");
        command.Options.Add(arch);
        command.Options.Add(hidden);
        command.Options.Add(layers);
        command.Options.Add(heads);
        command.Options.Add(kvHeads);
        command.Options.Add(headSize);
        command.Options.Add(intermediate);
        command.Options.Add(vocab);
        command.Options.Add(untied);
        command.Options.Add(seed);
        shared.AddTo(command);
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var options = shared.ToOptions(result);
            var model = new SyntheticModelOptions
            {
                Architecture = result.GetValue(arch)!.ToLowerInvariant() switch
                {
                    "llama" => ModelArchitecture.Llama,
                    "qwen2" => ModelArchitecture.Qwen2,
                    "mistral" => ModelArchitecture.Mistral,
                    "phi3" => ModelArchitecture.Phi3,
                    var other => throw new ArgumentException($"Unknown --arch '{other}'; use llama, qwen2, mistral or phi3."),
                },
                HiddenSize = result.GetValue(hidden),
                LayerCount = result.GetValue(layers),
                HeadCount = result.GetValue(heads),
                KeyValueHeadCount = result.GetValue(kvHeads) ?? result.GetValue(heads),
                HeadSize = result.GetValue(headSize),
                IntermediateSize = result.GetValue(intermediate),
                VocabularySize = result.GetValue(vocab),
                TiedEmbeddings = !result.GetValue(untied),
                Seed = result.GetValue(seed),
            };
            if (options.ContextLength is int context)
            {
                model.ContextLength = context;
            }

            bool json = result.GetValue(shared.Json);
            using var progress = new ConsoleProgressBar("creating", !json);
            var created = await SyntheticModel.CreateAsync(model, result.GetValue(shared.Output)!, options, progress, ct).ConfigureAwait(false);
            progress.Dispose();
            await ModelBuilderArguments.WriteSummaryAsync(created, json).ConfigureAwait(false);
            return 0;
        }, cancellationToken));
        return command;
    }
}
