namespace Infera.Cli;

/// <summary>
/// Resolves the model a command runs: the folder given with --model; a GGUF file or an Ollama model name given with --model,
/// imported once into the model cache (Infera.ModelBuilder's GgufImporter); or the small default model.
/// </summary>
internal static class ModelLocator
{
    public static async Task<string> ResolveAsync(string? model, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(model))
        {
            if (Directory.Exists(model))
            {
                return model;
            }

            using var progress = new ConsoleProgressBar("importing " + Path.GetFileName(model));
            string? imported = await Infera.ModelBuilder.GgufImporter.ResolveAsync(model, null, progress, cancellationToken).ConfigureAwait(false);
            progress.Dispose();
            return imported ?? model;
        }

        if (EmbeddedDefaultModel.IsEmbedded)
        {
            var stories = await EmbeddedDefaultModel.EnsureConvertedAsync(null, cancellationToken).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"infera: no --model given; using the built-in stories260K model at {stories} (TinyStories, 260K parameters, from llama2.c by Andrej Karpathy, MIT licence: see {EmbeddedDefaultModel.LicenseFileName} there)").ConfigureAwait(false);
            return stories;
        }

        var path = await Infera.ModelBuilder.DefaultModel.EnsureCreatedAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await Console.Error.WriteLineAsync($"infera: no --model given; using the built-in default model at {path} (seeded RANDOM weights: its text is gibberish; this build of the tool was made without stories260K; pass --model for a real model)").ConfigureAwait(false);
        return path;
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
