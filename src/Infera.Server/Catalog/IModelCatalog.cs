namespace Infera.Server;

/// <summary>The models a server can load on demand, by name, and the ways to change them (pull, copy, create, delete).</summary>
/// <remarks>
/// <para>Names follow Ollama's convention: <c>name:tag</c>, where a name without a tag means <c>name:latest</c>; the server
/// passes names as the client sent them, and a catalog compares them with the tag implied.</para>
/// <para>An operation a catalog cannot do throws <see cref="NotSupportedException"/> with a message saying why; the server
/// answers it with 400. Implementations are thread-safe.</para>
/// </remarks>
public interface IModelCatalog
{
    /// <summary>Lists the models.</summary>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The models, in the catalog's order.</returns>
    ValueTask<IReadOnlyList<ModelCatalogEntry>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Finds a model by name.</summary>
    /// <param name="name">The name, with or without a tag.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The model, or <see langword="null"/> when the catalog has none of that name.</returns>
    ValueTask<ModelCatalogEntry?> FindAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Fetches a model into the catalog, reporting progress as it goes.</summary>
    /// <param name="name">The name to pull.</param>
    /// <param name="progress">Receives progress, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>A task that completes when the model is in the catalog.</returns>
    Task PullAsync(string name, IProgress<ModelPullProgress>? progress, CancellationToken cancellationToken = default);

    /// <summary>Removes a model.</summary>
    /// <param name="name">The name to remove.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns><see langword="true"/> when the model was removed; <see langword="false"/> when the catalog has none of that name.</returns>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Makes a model available under a second name.</summary>
    /// <param name="source">The existing name.</param>
    /// <param name="destination">The new name.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns><see langword="true"/> when copied; <see langword="false"/> when the catalog has no model named <paramref name="source"/>.</returns>
    Task<bool> CopyAsync(string source, string destination, CancellationToken cancellationToken = default);

    /// <summary>Creates a model from a Modelfile (<c>FROM</c>, <c>PARAMETER</c>, <c>SYSTEM</c>, <c>TEMPLATE</c>, <c>LICENSE</c>).</summary>
    /// <param name="name">The name of the new model.</param>
    /// <param name="modelfile">The Modelfile's text.</param>
    /// <param name="progress">Receives progress, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>A task that completes when the model is in the catalog.</returns>
    /// <exception cref="FormatException">The Modelfile is malformed or names a base model the catalog does not have.</exception>
    Task CreateAsync(string name, string modelfile, IProgress<ModelPullProgress>? progress, CancellationToken cancellationToken = default);
}
