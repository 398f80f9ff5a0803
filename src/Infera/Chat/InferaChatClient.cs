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
/// <para>
/// Structured output. <see cref="ChatOptions.ResponseFormat"/> <see cref="ChatResponseFormat.Json"/> (any JSON object)
/// and <see cref="ChatResponseFormat.ForJsonSchema(System.Text.Json.JsonElement, string?, string?)"/> constrain decoding
/// so that the reply is JSON that validates against the schema, written compactly (no whitespace between tokens) unless
/// the schema sets its own <c>"x-guidance"</c> options; object schemas that list <c>properties</c> and do not set
/// <c>additionalProperties</c> are closed (<c>false</c>), so that the reply holds the properties asked for and no others. <see cref="ChatOptions.AdditionalProperties"/> may instead hold
/// <see cref="JsonSchemaKey"/> (a schema as text), <see cref="RegexKey"/> or <see cref="LarkGrammarKey"/>. An invalid
/// schema or grammar throws <see cref="ConstraintCompilationException"/> before any token is generated. A reply cut
/// off by the token limit before the constraint is complete has <see cref="ChatFinishReason.Length"/> and
/// <see cref="IncompleteOutputKey"/> set to <see langword="true"/> in the last update's
/// <see cref="ChatResponseUpdate.AdditionalProperties"/> (and so in the collected message's, and the
/// <see cref="ChatResponse.AdditionalProperties"/> of <see cref="GetResponseAsync"/>).
/// </para>
/// <para>
/// Tools. The <see cref="AIFunctionDeclaration"/>s in <see cref="ChatOptions.Tools"/> are rendered through the chat
/// template (or the fallback described by the prompt rules) and decoding follows a grammar built from their schemas, so
/// that a call always names a known tool with arguments that validate. <see cref="ChatOptions.ToolMode"/>: <c>Auto</c>
/// (the default; a text reply that never contains the format's call opener, or calls), <c>RequireAny</c>,
/// <c>RequireSpecific</c> (exactly one call, of that tool; decoding ends after it) and <c>None</c> (tools are not offered;
/// the reply is text). <see cref="ChatOptions.AllowMultipleToolCalls"/> (default <see langword="true"/>) allows several
/// calls per turn where the <see cref="ToolCallFormat"/> can hold them; <see langword="false"/> allows one. Calls arrive
/// as <see cref="FunctionCallContent"/> in the update where each is complete; the finish reason is then
/// <see cref="ChatFinishReason.ToolCalls"/>. Tool-call markup never reaches the text: a call cut off by the token limit
/// is dropped, the finish reason is <see cref="ChatFinishReason.Length"/> with <see cref="IncompleteOutputKey"/> set,
/// and <see cref="ToolCallErrorKey"/> says what was cut (calls that are all complete when the limit is reached are
/// <see cref="ChatFinishReason.ToolCalls"/>) (a call cut by a stop sequence likewise, with
/// <see cref="ChatFinishReason.Stop"/>); the complete calls before it are kept.
/// <see cref="FunctionResultContent"/> in later messages is rendered into the prompt, so
/// <c>ChatClientBuilder.UseFunctionInvocation()</c> runs a full tool loop.
/// </para>
/// <para>This class is thread-safe: concurrent requests are scheduled by the runner.</para>
/// </remarks>
public sealed class InferaChatClient : IChatClient
{
    /// <summary>The key under which updates carry log-probabilities in <see cref="ChatResponseUpdate.AdditionalProperties"/>.</summary>
    public const string LogProbabilitiesKey = "logprobs";

    /// <summary>The key under which the last update carries <see langword="true"/> when the reply ended (at the token limit) before its JSON schema, grammar or tool call was complete.</summary>
    public const string IncompleteOutputKey = "incomplete_output";

    /// <summary>The key under which the last update carries a message (a <see cref="string"/>) when the reply ended inside a tool call (cut off by the token limit or a stop sequence) or held markup that is not a call.</summary>
    public const string ToolCallErrorKey = "tool_call_error";

    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> key of a JSON Schema (text or a <see cref="System.Text.Json.JsonElement"/>) that the reply must validate against; an alternative to <see cref="ChatOptions.ResponseFormat"/>.</summary>
    public const string JsonSchemaKey = "json_schema";

    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> key of a regular expression that the whole reply must match.</summary>
    public const string RegexKey = "regex";

    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> key of a Lark grammar (llguidance dialect) that the reply must match.</summary>
    public const string LarkGrammarKey = "lark_grammar";

    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> key of the tool-call format (a <see cref="Infera.ToolCallFormat"/> or its name) for one request.</summary>
    public const string ToolCallFormatKey = "tool_call_format";

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
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var response = await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

        // Collecting updates puts their additional properties on the message; the outcome flags belong to the response too.
        if (response.Messages.Count > 0 && response.Messages[^1].AdditionalProperties is { } properties)
        {
            foreach (var key in (ReadOnlySpan<string>)[IncompleteOutputKey, ToolCallErrorKey])
            {
                if (properties.TryGetValue(key, out var value))
                {
                    (response.AdditionalProperties ??= [])[key] = value;
                }
            }
        }

        return response;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var generationOptions = ChatOptionsMapper.Map(options, _options);
        var constraints = ChatConstraintPlan.Create(options, _options, _runner.Tokenizer);
        generationOptions.Constraint = constraints.Constraint;
        var (prompt, addSpecialTokens) = ChatPrompt.Render(_runner.Tokenizer, messages, options, constraints.PromptTools, constraints.Format);
        generationOptions.AddSpecialTokens = addSpecialTokens;
        var stops = new StopSequenceMatcher(_options.StopSequences.Concat(options?.StopSequences ?? []));
        var toolParser = constraints.ParsesToolCalls ? new ToolCallStreamParser(constraints.Format, constraints.ToolsRequired) : null;
        var output = constraints.Constraint is not null ? new System.Text.StringBuilder() : null;

        var responseId = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var createdAt = DateTimeOffset.UtcNow;
        var modelId = _runner.Metadata.ModelId;
        var promptTokens = 0;
        var cachedPromptTokens = 0;
        var completionTokens = 0;
        GenerationFinishReason? finish = null;
        List<TokenLogProbabilities>? pendingLogProbabilities = null;

        await foreach (var token in _runner.GenerateAsync(new GenerationRequest(prompt, generationOptions), cancellationToken).ConfigureAwait(false))
        {
            promptTokens = token.PromptTokenCount;
            cachedPromptTokens = token.CachedPromptTokenCount;
            completionTokens = token.Index + 1;
            finish = token.FinishReason;
            if (token.LogProbabilities is { } lp)
            {
                (pendingLogProbabilities ??= []).Add(lp);
            }

            var text = stops.Append(token.Text);
            output?.Append(text);
            if (toolParser is not null)
            {
                foreach (var content in toolParser.Append(text))
                {
                    yield return Update(content, pendingLogProbabilities);
                    pendingLogProbabilities = null;
                }
            }
            else if (text.Length > 0)
            {
                yield return Update(new TextContent(text), pendingLogProbabilities);
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
        output?.Append(tail);
        var last = Update(null, pendingLogProbabilities);
        string? toolError = null;
        if (toolParser is not null)
        {
            var cutOff = finish == GenerationFinishReason.Length || stops.IsStopped;
            foreach (var content in toolParser.Append(tail).Concat(toolParser.Complete(cutOff, out toolError)))
            {
                last.Contents.Add(content);
            }
        }
        else if (tail.Length > 0)
        {
            last.Contents.Add(new TextContent(tail));
        }

        // Calls that are all complete when the token limit is reached are calls, not a cut-off reply: nothing was dropped.
        var completeCalls = toolParser is { CallCount: > 0 } && toolError is null;
        last.FinishReason = finish == GenerationFinishReason.Length && !completeCalls ? ChatFinishReason.Length
            : toolParser is { CallCount: > 0 } ? ChatFinishReason.ToolCalls
            : ChatFinishReason.Stop;
        if (output is not null && IsIncomplete(output.ToString()))
        {
            (last.AdditionalProperties ??= [])[IncompleteOutputKey] = true;
        }

        if (toolError is not null)
        {
            (last.AdditionalProperties ??= [])[ToolCallErrorKey] = toolError;
        }

        last.Contents.Add(new UsageContent(new UsageDetails
        {
            InputTokenCount = promptTokens,
            CachedInputTokenCount = cachedPromptTokens,
            OutputTokenCount = completionTokens,
            TotalTokenCount = promptTokens + completionTokens,
        }));
        yield return last;

        bool IsIncomplete(string reply)
        {
            if (finish != GenerationFinishReason.Length)
            {
                return false;
            }

            // A cut-off call list, or JSON that does not parse, is unfinished; for a regex or grammar the end cannot be told here.
            if (toolParser is not null)
            {
                return toolError is not null || (!toolParser.IsCalls && constraints.ExpectsJson && !IsCompleteJson(reply));
            }

            return !constraints.ExpectsJson || !IsCompleteJson(reply);
        }

        ChatResponseUpdate Update(AIContent? content, List<TokenLogProbabilities>? logProbabilities)
        {
            var update = new ChatResponseUpdate(ChatRole.Assistant, content is null ? [] : [content])
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

    private static bool IsCompleteJson(string text)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(text);
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
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
