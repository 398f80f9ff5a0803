using Infera.Models;

namespace Infera.Cli;

/// <summary>
/// Resolves the model a command runs, the same way for every command: a folder path, a library name (<c>name:tag</c>,
/// <c>org/name</c>) from <see cref="ModelLibrary"/>, or, with no --model, the small default model.
/// </summary>
internal static class ModelLocator
{
    public static async Task<ResolvedModel> ResolveAsync(string? model, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(model))
        {
            using var library = new ModelLibrary();
            return await library.ResolveAsync(model, cancellationToken: cancellationToken).ConfigureAwait(false);
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

    public static OnnxModelRunnerOptions RunnerOptions(string? provider)
    {
        var options = new OnnxModelRunnerOptions();
        if (!string.IsNullOrWhiteSpace(provider))
        {
            options.ExecutionProvider = ExecutionProviders.Create(provider);
        }

        return options;
    }
}
