namespace Infera.Server;

/// <summary>
/// A request's view of a loaded runner with Ollama's context rules: a window of <c>num_ctx</c> tokens (at most the model's),
/// a prompt that does not fit is an error unless the request sent <c>truncate: true</c>, and <c>num_predict</c> beyond the window
/// gives what fits (finishing with <c>length</c>). The prompt is encoded here once and passed on as token ids.
/// </summary>
internal sealed class OllamaContextRunner(IModelRunner inner, int? numCtx, bool truncate) : IModelRunner
{
    public ModelMetadata Metadata => inner.Metadata;

    public ITokenizer Tokenizer => inner.Tokenizer;

    /// <summary>Gets the context window in tokens: <c>num_ctx</c> capped by the model's context length.</summary>
    public int Window { get; } = Math.Min(numCtx ?? int.MaxValue, inner.Metadata.ContextLength);

    public IAsyncEnumerable<TokenUpdate> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var options = request.Options.Clone();
        options.Validate();
        var prompt = request.PromptTokens is { } ids ? [.. ids] : inner.Tokenizer.Encode(request.Prompt!, options.AddSpecialTokens);
        var requested = options.MaxNewTokens;
        if (prompt.Length >= Window || (requested is int wanted && prompt.Length + wanted > Window))
        {
            if (prompt.Length < Window)
            {
                // Only the limit is too large: generate what fits.
                requested = Window - prompt.Length;
            }
            else if (truncate)
            {
                // Keep room for the reply: num_predict tokens, or a quarter of the window when there is no limit.
                var room = Math.Clamp(requested ?? Window / 4, 1, Window - 1);
                prompt = KeepEnd(prompt, Window - room, inner.Metadata.BosTokenId);
                requested = room;
            }
            else
            {
                throw new ContextLengthExceededException(prompt.Length, Math.Max(requested ?? 1, 1), Window);
            }
        }

        options.MaxNewTokens = requested ?? Window - prompt.Length;
        options.ContextOverflow = ContextOverflowPolicy.LimitNewTokens;
        return inner.GenerateAsync(new GenerationRequest(prompt, options), cancellationToken);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public void Dispose()
    {
        // The inner runner belongs to the server's pool.
    }

    private static int[] KeepEnd(int[] prompt, int keep, int? bos)
    {
        var leading = bos is { } b && prompt.Length > 0 && prompt[0] == b ? 1 : 0;
        var tail = Math.Max(keep - leading, 1);
        return [.. prompt.AsSpan(0, leading), .. prompt.AsSpan(prompt.Length - tail)];
    }
}
