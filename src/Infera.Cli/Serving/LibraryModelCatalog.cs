using System.Globalization;
using Infera.Models;
using Infera.Server;
using ServerPullProgress = Infera.Server.ModelPullProgress;

namespace Infera.Cli.Serving;

/// <summary>The model library (<see cref="ModelLibrary"/>, under INFERA_HOME) as the server's catalog: what <c>infera serve</c> loads on demand, and what <c>/api/pull</c>, <c>/api/create</c>, <c>/api/copy</c> and <c>/api/delete</c> change.</summary>
/// <remarks>A name the library does not have is answered as not found (404); other library errors (an unknown repository, a failed conversion) as 400 with the library's message.</remarks>
internal sealed class LibraryModelCatalog(ModelLibrary library) : IModelCatalog
{
    public async ValueTask<IReadOnlyList<ModelCatalogEntry>> ListAsync(CancellationToken cancellationToken = default) =>
        [.. (await library.ListAsync(cancellationToken).ConfigureAwait(false)).Select(Entry)];

    public async ValueTask<ModelCatalogEntry?> FindAsync(string name, CancellationToken cancellationToken = default) =>
        await library.FindAsync(name, cancellationToken).ConfigureAwait(false) is { } info ? Entry(info) : null;

    public Task PullAsync(string name, IProgress<ServerPullProgress>? progress, CancellationToken cancellationToken = default) => Translate(async () =>
    {
        var forward = progress is null ? null : new Progress(progress);
        await library.PullAsync(name, null, forward, cancellationToken).ConfigureAwait(false);
        return true;
    });

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) =>
        Translate(() => library.RemoveAsync(name, cancellationToken));

    public Task<bool> CopyAsync(string source, string destination, CancellationToken cancellationToken = default) => Translate(async () =>
    {
        if (await library.FindAsync(source, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        await library.CopyAsync(source, destination, overwrite: true, cancellationToken).ConfigureAwait(false);
        return true;
    });

    public Task CreateAsync(string name, string modelfile, IProgress<ServerPullProgress>? progress, CancellationToken cancellationToken = default) => Translate(async () =>
    {
        var forward = progress is null ? null : new Progress(progress);
        await library.CreateAsync(name, modelfile, new ModelCreateOptions { Overwrite = true }, forward, cancellationToken).ConfigureAwait(false);
        return true;
    });

    private static ModelCatalogEntry Entry(ModelInfo info) => Entry(info.Name, info.ModelDirectory, info.Manifest);

    /// <summary>The catalog entry of a model resolved by name, so that a pinned library model keeps its Modelfile defaults; <see langword="null"/> for a folder or file path.</summary>
    public static ModelCatalogEntry? Entry(ResolvedModel resolved) =>
        resolved is { Name: { } name, Manifest: { } manifest } ? Entry(name, resolved.ModelDirectory, manifest) : null;

    private static ModelCatalogEntry Entry(string name, string modelDirectory, ModelManifest manifest) => new()
    {
        Name = name,
        ModelPath = modelDirectory,
        System = manifest.System,
        Template = manifest.Template,
        License = manifest.License,
        Parameters = Parameters(manifest.Parameters),
        Precision = manifest.Precision,
        Source = manifest.Source.Repository,
    };

    // The Modelfile's parameters in Ollama's names, as the server's endpoints read them.
    private static List<KeyValuePair<string, string>> Parameters(ModelParameters? parameters)
    {
        var result = new List<KeyValuePair<string, string>>();
        if (parameters is null)
        {
            return result;
        }

        Add("temperature", parameters.Temperature);
        Add("top_k", parameters.TopK);
        Add("top_p", parameters.TopP);
        Add("min_p", parameters.MinP);
        Add("seed", parameters.Seed);
        Add("num_ctx", parameters.ContextLength);
        Add("num_predict", parameters.MaxOutputTokens);
        Add("repeat_penalty", parameters.RepeatPenalty);
        foreach (var stop in parameters.Stop)
        {
            // A JSON string, so that the value is read as text whatever it holds.
            result.Add(new("stop", CliJson.Serialize(stop)));
        }

        return result;

        void Add(string name, IFormattable? value)
        {
            if (value is not null)
            {
                result.Add(new(name, value.ToString(null, CultureInfo.InvariantCulture)));
            }
        }
    }

    private static async Task<T> Translate<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (ModelNotFoundException ex)
        {
            throw new KeyNotFoundException(ex.Message, ex);
        }
        catch (ModelLibraryException ex) when (ex is not HuggingFaceHubException || ex.InnerException is not (HttpRequestException or IOException))
        {
            throw new NotSupportedException(ex.Message, ex);
        }
    }

    private sealed class Progress(IProgress<ServerPullProgress> target) : IProgress<Infera.Models.ModelPullProgress>
    {
        public void Report(Infera.Models.ModelPullProgress value) =>
            target.Report(new ServerPullProgress(value.Status, value.Digest ?? value.File, value.Total, value.Total is null && value.Completed == 0 ? null : value.Completed));
    }
}
