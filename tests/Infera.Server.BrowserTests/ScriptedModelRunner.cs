using System.Runtime.CompilerServices;

namespace Infera.Server.BrowserTests;

/// <summary>A test double of a model: a real model's tokenizer and metadata under another id, replying with scripted text pieces.</summary>
/// <remarks>With <see cref="Endless"/> it writes a piece every <see cref="Delay"/> until the request is cancelled, and signals each cancellation.</remarks>
internal sealed class ScriptedModelRunner(IModelRunner model, string modelId, IReadOnlyList<string> pieces) : IModelRunner
{
    private TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ModelMetadata Metadata { get; } = new()
    {
        ModelId = modelId,
        ModelPath = model.Metadata.ModelPath,
        ModelType = model.Metadata.ModelType,
        ContextLength = model.Metadata.ContextLength,
        VocabularySize = model.Metadata.VocabularySize,
        BosTokenId = model.Metadata.BosTokenId,
        EosTokenIds = model.Metadata.EosTokenIds,
        ExecutionProvider = model.Metadata.ExecutionProvider,
    };

    public ITokenizer Tokenizer => model.Tokenizer;

    public bool Endless { get; init; }

    public TimeSpan Delay { get; init; }

    /// <summary>Gets a task that completes when a request to this model is cancelled (the client went away).</summary>
    public Task Cancelled => Volatile.Read(ref _cancelled).Task;

    public void ResetCancelled() => Volatile.Write(ref _cancelled, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public async IAsyncEnumerable<TokenUpdate> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var registration = cancellationToken.Register(() => Volatile.Read(ref _cancelled).TrySetResult());
        for (var index = 0; Endless || index < pieces.Count; index++)
        {
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();
            var last = !Endless && index == pieces.Count - 1;
            yield return new TokenUpdate
            {
                TokenId = 1,
                Text = pieces[index % pieces.Count],
                Index = index,
                PromptTokenCount = 1,
                FinishReason = last ? GenerationFinishReason.Stop : null,
            };
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public void Dispose()
    {
    }
}
