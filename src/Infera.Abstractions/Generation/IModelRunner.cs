namespace Infera;

/// <summary>Generates tokens from a loaded language model.</summary>
/// <remarks>
/// <para>
/// An <see cref="IModelRunner"/> is the token-level contract under every Infera chat client and server:
/// a prompt (text or token ids) goes in, an asynchronous stream of <see cref="TokenUpdate"/> values comes out.
/// </para>
/// <para>
/// Implementations are thread-safe: one loaded model serves any number of concurrent
/// <see cref="GenerateAsync"/> calls. Requests beyond the implementation's concurrency limit wait in a bounded
/// queue; when that queue is full the call fails with <see cref="RequestQueueFullException"/>. The token loop never
/// runs on the caller's thread.
/// </para>
/// </remarks>
public interface IModelRunner : IAsyncDisposable, IDisposable
{
    /// <summary>Gets what is known about the loaded model.</summary>
    ModelMetadata Metadata { get; }

    /// <summary>Gets the model's tokenizer.</summary>
    ITokenizer Tokenizer { get; }

    /// <summary>Generates tokens for a request.</summary>
    /// <param name="request">The prompt and the generation options.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>
    /// One update per generated token, in order. The last update carries <see cref="TokenUpdate.FinishReason"/>.
    /// Cancellation stops generation within one token step and surfaces as <see cref="OperationCanceledException"/>.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the exception names it.</exception>
    /// <exception cref="ContextLengthExceededException">The prompt plus the requested tokens exceed the context length and the request did not opt into truncation.</exception>
    /// <exception cref="RequestQueueFullException">The runner's request queue is full.</exception>
    /// <exception cref="ObjectDisposedException">The runner has been disposed.</exception>
    IAsyncEnumerable<TokenUpdate> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default);
}
