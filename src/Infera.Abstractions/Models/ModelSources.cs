namespace Infera;

/// <summary>
/// The process-wide list of <see cref="IModelSourceResolver"/>s that model loading consults for a reference that is not a
/// folder (<c>OnnxModelRunner.LoadAsync</c>, <c>InferaChatClient.LoadAsync</c>). This keeps the runtime free of the
/// converter: a GGUF path loads once <c>Infera.ModelBuilder</c>'s resolver is registered.
/// </summary>
public static class ModelSources
{
    private static readonly Lock Gate = new();
    private static IModelSourceResolver[] _resolvers = [];

    /// <summary>Adds a resolver (once; registering the same instance again does nothing). Thread-safe.</summary>
    /// <param name="resolver">The resolver.</param>
    public static void Register(IModelSourceResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        lock (Gate)
        {
            if (Array.IndexOf(_resolvers, resolver) < 0)
            {
                _resolvers = [.. _resolvers, resolver];
            }
        }
    }

    /// <summary>Returns the model folder for <paramref name="model"/>: an existing folder as it is, else the first resolver's answer, else <paramref name="model"/> unchanged.</summary>
    /// <param name="model">A model folder, file or name.</param>
    /// <param name="progress">Receives the fraction done of an import, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The folder to load.</returns>
    /// <exception cref="ModelLoadException">The reference is a GGUF file and no resolver is registered.</exception>
    public static async ValueTask<string> ResolveAsync(string model, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        if (Directory.Exists(model))
        {
            return model;
        }

        foreach (var resolver in Volatile.Read(ref _resolvers))
        {
            if (await resolver.ResolveAsync(model, progress, cancellationToken).ConfigureAwait(false) is { } folder)
            {
                return folder;
            }
        }

        if (model.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) && File.Exists(model))
        {
            throw new ModelLoadException($"{model} is a GGUF file; loading it needs Infera.ModelBuilder's importer: reference the package and call GgufImporter.RegisterModelSource() once (the infera CLI does), or convert it with 'infera convert gguf'.") { ModelPath = model };
        }

        return model;
    }
}
