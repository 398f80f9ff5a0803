using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Infera;

/// <summary>An <see cref="IChatClient"/> that runs a local model in-process through an <see cref="IModelRunner"/>.</summary>
/// <remarks>
/// <para>
/// Streaming is the primary path; <see cref="GetResponseAsync"/> collects the stream. Every update carries the
/// response id, the model id and the creation time; the last one carries <see cref="UsageContent"/> (input and
/// output token counts) and the <see cref="ChatFinishReason"/>.
/// </para>
/// <para>
/// <see cref="ChatOptions"/> supported: <see cref="ChatOptions.Temperature"/> (0 = greedy), <see cref="ChatOptions.TopP"/>,
/// <see cref="ChatOptions.TopK"/>, <see cref="ChatOptions.MaxOutputTokens"/> (new tokens; the prompt is not counted),
/// <see cref="ChatOptions.Seed"/>, <see cref="ChatOptions.StopSequences"/> (matched across token boundaries; the stop
/// text is not emitted), <see cref="ChatOptions.FrequencyPenalty"/> and <see cref="ChatOptions.PresencePenalty"/> (OpenAI
/// semantics), <see cref="ChatOptions.Instructions"/>, and in <see cref="ChatOptions.AdditionalProperties"/>:
/// <c>repetition_penalty</c>, <c>min_p</c>, <c>logit_bias</c>, <c>logprobs</c>, <c>top_logprobs</c>,
/// <c>context_overflow</c>. Out-of-range values throw <see cref="ArgumentOutOfRangeException"/> naming the option.
/// </para>
/// <para>
/// When log-probabilities are requested, each update's <see cref="ChatResponseUpdate.AdditionalProperties"/> holds
/// them under the key <c>"logprobs"</c> as an <see cref="IReadOnlyList{T}"/> of <see cref="TokenLogProbabilities"/>,
/// one per token whose text the update carries.
/// </para>
/// <para>This class is thread-safe: concurrent requests are scheduled by the runner.</para>
/// </remarks>
public sealed class InferaChatClient : IChatClient
{
    /// <summary>The key under which updates carry log-probabilities in <see cref="ChatResponseUpdate.AdditionalProperties"/>.</summary>
    public const string LogProbabilitiesKey = "logprobs";

    private readonly IModelRunner _runner;
    private readonly bool _ownsRunner;
    private readonly InferaChatClientOptions _options;
    private readonly ChatClientMetadata _metadata;

    /// <summary>Initializes a new instance of the <see cref="InferaChatClient"/> class over a runner.</summary>
    /// <param name="runner">The model runner.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="ownsRunner"><see langword="true"/> to dispose the runner when this client is disposed.</param>
    public InferaChatClient(IModelRunner runner, InferaChatClientOptions? options = null, bool ownsRunner = false)
    {
        ArgumentNullException.ThrowIfNull(runner);
        _runner = runner;
        _ownsRunner = ownsRunner;
        _options = options ?? new InferaChatClientOptions();
        _metadata = new ChatClientMetadata(_options.ProviderName, new Uri(runner.Metadata.ModelPath.EndsWith('/') ? runner.Metadata.ModelPath : runner.Metadata.ModelPath + "/", UriKind.Absolute), runner.Metadata.ModelId);
    }

    /// <summary>Loads a model folder and creates a chat client that owns it.</summary>
    /// <param name="modelPath">The ONNX Runtime GenAI model folder.</param>
    /// <param name="runnerOptions">The runner options, or <see langword="null"/> for the defaults.</param>
    /// <param name="options">The chat client options, or <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Receives load progress, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The chat client.</returns>
    public static async Task<InferaChatClient> LoadAsync(string modelPath, OnnxModelRunnerOptions? runnerOptions = null, InferaChatClientOptions? options = null, IProgress<ModelLoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var runner = await OnnxModelRunner.LoadAsync(modelPath, runnerOptions, progress, cancellationToken).ConfigureAwait(false);
        return new InferaChatClient(runner, options, ownsRunner: true);
    }

    /// <summary>Gets the model runner.</summary>
    public IModelRunner Runner => _runner;

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var generationOptions = ChatOptionsMapper.Map(options, _options);
        var (prompt, addSpecialTokens) = ChatPrompt.Render(_runner.Tokenizer, messages, options);
        generationOptions.AddSpecialTokens = addSpecialTokens;
        var stops = new StopSequenceMatcher(_options.StopSequences.Concat(options?.StopSequences ?? []));

        var responseId = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var createdAt = DateTimeOffset.UtcNow;
        var modelId = _runner.Metadata.ModelId;
        var promptTokens = 0;
        var completionTokens = 0;
        GenerationFinishReason? finish = null;
        List<TokenLogProbabilities>? pendingLogProbabilities = null;

        await foreach (var token in _runner.GenerateAsync(new GenerationRequest(prompt, generationOptions), cancellationToken).ConfigureAwait(false))
        {
            promptTokens = token.PromptTokenCount;
            completionTokens = token.Index + 1;
            finish = token.FinishReason;
            if (token.LogProbabilities is { } lp)
            {
                (pendingLogProbabilities ??= []).Add(lp);
            }

            var text = stops.Append(token.Text);
            if (text.Length > 0)
            {
                yield return Update(text, pendingLogProbabilities);
                pendingLogProbabilities = null;
            }

            if (stops.IsStopped)
            {
                // Leaving the loop disposes the runner's enumerator, which stops generation at its next step.
                finish = GenerationFinishReason.Stop;
                break;
            }
        }

        var tail = stops.Flush();
        var last = Update(tail, pendingLogProbabilities);
        last.FinishReason = finish == GenerationFinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;
        last.Contents.Add(new UsageContent(new UsageDetails
        {
            InputTokenCount = promptTokens,
            OutputTokenCount = completionTokens,
            TotalTokenCount = promptTokens + completionTokens,
        }));
        yield return last;

        ChatResponseUpdate Update(string text, List<TokenLogProbabilities>? logProbabilities)
        {
            var update = new ChatResponseUpdate(ChatRole.Assistant, text.Length > 0 ? [new TextContent(text)] : [])
            {
                ResponseId = responseId,
                MessageId = responseId,
                ModelId = modelId,
                CreatedAt = createdAt,
            };
            if (logProbabilities is not null)
            {
                update.AdditionalProperties = new() { [LogProbabilitiesKey] = logProbabilities };
            }

            return update;
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }

        if (serviceType.IsInstanceOfType(_runner))
        {
            return _runner;
        }

        if (serviceType.IsInstanceOfType(_runner.Tokenizer))
        {
            return _runner.Tokenizer;
        }

        if (serviceType == typeof(ModelMetadata))
        {
            return _runner.Metadata;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsRunner)
        {
            _runner.Dispose();
        }
    }
}
