using System.CommandLine;
using Infera.Models;

namespace Infera.Cli;

/// <summary>
/// Resolves the model a command runs, the same way for every command (<see cref="ModelLibrary.ResolveAsync"/>): a folder
/// path, a library name (<c>name:tag</c>, <c>org/name</c>), a GGUF file or an Ollama model name, or, with no --model, the small default model.
/// </summary>
internal static class ModelLocator
{
    public static async Task<ResolvedModel> ResolveAsync(string? model, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(model))
        {
            // One resolver for every command: a folder, a library name, a GGUF file or an Ollama name (imported once).
            using var library = new ModelLibrary();
            using var progress = new PullProgressPrinter();
            return await library.ResolveAsync(model, progress: progress, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        if (EmbeddedDefaultModel.IsEmbedded)
        {
            var stories = await EmbeddedDefaultModel.EnsureConvertedAsync(null, cancellationToken).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"infera: no --model given; using the built-in stories260K model at {stories} (TinyStories, 260K parameters, from llama2.c by Andrej Karpathy, MIT licence: see {EmbeddedDefaultModel.LicenseFileName} there)").ConfigureAwait(false);
            return new ResolvedModel { ModelDirectory = stories };
        }

        var path = await Infera.ModelBuilder.DefaultModel.EnsureCreatedAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await Console.Error.WriteLineAsync($"infera: no --model given; using the built-in default model at {path} (seeded RANDOM weights: its text is gibberish; this build of the tool was made without stories260K; pass --model for a real model)").ConfigureAwait(false);
        return new ResolvedModel { ModelDirectory = path };
    }

    public static OnnxModelRunnerOptions RunnerOptions(string? provider, int? threads)
    {
        var options = new OnnxModelRunnerOptions { IntraOpThreads = threads };
        if (!string.IsNullOrWhiteSpace(provider))
        {
            options.ExecutionProvider = ExecutionProviders.Create(provider);
        }

        return options;
    }

    /// <summary>The thread count for statistics: a number, or ONNX Runtime's own default.</summary>
    public static string Threads(ModelMetadata metadata) =>
        metadata.IntraOpThreads is int n ? (n == 1 ? "1 thread" : $"{n} threads") : "ONNX Runtime's default threads";

    /// <summary>The <c>--prefix-cache-mb</c> option of the commands that keep a model loaded across requests.</summary>
    public static Option<int?> PrefixCacheOption() => new("--prefix-cache-mb")
    {
        Description = "Memory (MiB) for finished requests' key/value state, reused by later prompts that start the same way; 0 turns it off. Default: sized from the model (two full-context sequences, 64 MiB to 1/8 of memory).",
    };

    /// <summary>Applies <c>--prefix-cache-mb</c>; a negative value is an error.</summary>
    public static void ApplyPrefixCache(OnnxModelRunnerOptions options, int? megabytes)
    {
        if (megabytes is < 0)
        {
            throw new ArgumentOutOfRangeException("--prefix-cache-mb", megabytes, "--prefix-cache-mb must be 0 (off) or more.");
        }

        options.PrefixCacheBytes = megabytes is int mb ? (long)mb << 20 : null;
    }
}
