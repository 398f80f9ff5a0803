namespace Infera.StructuredOutput.Tests;

/// <summary>An <see cref="IModelRunner"/> that passes requests to another runner and keeps what it was asked.</summary>
public sealed class RecordingRunner(IModelRunner inner) : IModelRunner
{
    private readonly List<GenerationRequest> _requests = [];

    public ModelMetadata Metadata => inner.Metadata;

    public ITokenizer Tokenizer => inner.Tokenizer;

    public IReadOnlyList<GenerationRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public IAsyncEnumerable<TokenUpdate> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        lock (_requests)
        {
            _requests.Add(request);
        }

        return inner.GenerateAsync(request, cancellationToken);
    }

    // The inner runner belongs to the fixture.
    public void Dispose()
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
