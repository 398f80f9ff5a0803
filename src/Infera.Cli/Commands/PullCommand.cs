using System.CommandLine;
using Infera.ModelBuilder;
using Infera.Models;

namespace Infera.Cli.Commands;

/// <summary><c>infera pull ORG/NAME[@REVISION]</c>: downloads a model from the Hugging Face Hub and makes it runnable under a library name.</summary>
internal static class PullCommand
{
    internal static Command Create()
    {
        var reference = new Argument<string>("model") { Description = "The Hugging Face repository: org/name, or org/name@revision (branch, tag or commit)." };
        var precision = new Option<string?>("--precision") { Description = "int4, int8, fp16 or fp32: the conversion of safetensors models (default: int4 above 100M parameters, else fp32) and the variant to pick where a repository has several." };
        var include = new Option<string?>("--include") { Description = "A glob over repository paths that picks the ONNX Runtime GenAI subfolder or the files to use, e.g. 'cpu_and_mobile/*'." };
        var name = new Option<string?>("--name") { Description = "The library name to store it under (default: the repository id, tagged with the revision)." };
        var command = new Command("pull", "Download a model from the Hugging Face Hub (HF_TOKEN, HF_ENDPOINT, HF_HOME, HF_HUB_OFFLINE apply) into the library at INFERA_HOME.");
        command.Arguments.Add(reference);
        command.Options.Add(precision);
        command.Options.Add(include);
        command.Options.Add(name);
        command.SetAction((result, cancellationToken) => CliErrors.RunAsync(async ct =>
        {
            var options = new ModelPullOptions
            {
                Precision = ParsePrecision(result.GetValue(precision)),
                Include = result.GetValue(include),
                Name = result.GetValue(name),
            };
            using var library = new ModelLibrary();
            ModelInfo model;
            using (var progress = new PullProgressPrinter())
            {
                model = await library.PullAsync(result.GetValue(reference)!, options, progress, ct).ConfigureAwait(false);
            }

            var m = model.Manifest;
            await Console.Out.WriteLineAsync($"pulled {model.Name}: {m.Source.Repository}@{m.Source.Commit?[..12]} ({m.Source.Format}{(m.Source.Subfolder is null ? string.Empty : " " + m.Source.Subfolder)}), {m.Precision ?? "unknown precision"}, {PullProgressPrinter.FormatSize(model.Size)} at {model.ModelDirectory}").ConfigureAwait(false);
            return 0;
        }, cancellationToken));
        return command;
    }

    internal static ModelPrecision? ParsePrecision(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "int4" or "q4" => ModelPrecision.Int4,
        "int8" or "q8" => ModelPrecision.Int8,
        "fp16" or "float16" or "f16" => ModelPrecision.Float16,
        "fp32" or "float32" or "f32" => ModelPrecision.Float32,
        _ => throw new ArgumentException($"--precision must be int4, int8, fp16 or fp32; it was '{text}'."),
    };
}
