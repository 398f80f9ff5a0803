using System.CommandLine;
using Infera.ModelBuilder;

namespace Infera.Cli.Commands;

/// <summary><c>infera convert llama2c|hf|gguf</c>: converts a llama2.c checkpoint, a Hugging Face folder or a GGUF file into an ONNX Runtime GenAI model folder.</summary>
internal static class ConvertCommand
{
    internal static Command Create()
    {
        var command = new Command("convert", "Convert a model into an ONNX Runtime GenAI folder (no Python needed).");
        command.Subcommands.Add(CreateLlama2C());
        command.Subcommands.Add(CreateHuggingFace());
        command.Subcommands.Add(CreateGguf());
        return command;
    }

    private static Command CreateGguf()
    {
        var shared = new ModelBuilderArguments(defaultPrecision: "keep");
        var input = new Option<string>("--input", "-i") { Description = "The GGUF file (llama, mistral, qwen2 or phi3; F32/F16/BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K tensors).", Required = true };
        var command = new Command("gguf", "Convert a GGUF file (llama.cpp, Ollama, LM Studio); --precision keep (default) keeps each weight at the closest exact form.");
        command.Options.Add(input);
        shared.AddTo(command);
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var options = shared.ToOptions(result);
            bool json = result.GetValue(shared.Json);
            using var progress = new ConsoleProgressBar("converting", !json);
            var converted = await ModelConverter.ConvertGgufAsync(result.GetValue(input)!, result.GetValue(shared.Output)!, options, progress, ct).ConfigureAwait(false);
            progress.Dispose();
            await ModelBuilderArguments.WriteSummaryAsync(converted, json).ConfigureAwait(false);
            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command CreateLlama2C()
    {
        var shared = new ModelBuilderArguments();
        var checkpoint = new Option<string>("--checkpoint") { Description = "The llama2.c checkpoint (.bin).", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "The llama2.c tokenizer (tok*.bin).", Required = true };
        var command = new Command("llama2c", "Convert a llama2.c checkpoint and its tokenizer.");
        command.Options.Add(checkpoint);
        command.Options.Add(tokenizer);
        shared.AddTo(command);
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var options = shared.ToOptions(result);
            bool json = result.GetValue(shared.Json);
            using var progress = new ConsoleProgressBar("converting", !json);
            var converted = await ModelConverter.ConvertLlama2CAsync(result.GetValue(checkpoint)!, result.GetValue(tokenizer)!, result.GetValue(shared.Output)!, options, progress, ct).ConfigureAwait(false);
            progress.Dispose();
            await ModelBuilderArguments.WriteSummaryAsync(converted, json).ConfigureAwait(false);
            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command CreateHuggingFace()
    {
        var shared = new ModelBuilderArguments();
        var input = new Option<string>("--input", "-i") { Description = "The Hugging Face folder (config.json, *.safetensors, tokenizer.json).", Required = true };
        var command = new Command("hf", "Convert a Hugging Face safetensors folder (Llama, Mistral, Qwen2, Phi-3).");
        command.Options.Add(input);
        shared.AddTo(command);
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var options = shared.ToOptions(result);
            bool json = result.GetValue(shared.Json);
            using var progress = new ConsoleProgressBar("converting", !json);
            var converted = await ModelConverter.ConvertHuggingFaceAsync(result.GetValue(input)!, result.GetValue(shared.Output)!, options, progress, ct).ConfigureAwait(false);
            progress.Dispose();
            await ModelBuilderArguments.WriteSummaryAsync(converted, json).ConfigureAwait(false);
            return 0;
        }, cancellationToken));
        return command;
    }
}
