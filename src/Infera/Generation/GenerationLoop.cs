using System.Threading.Channels;
using Infera.Numerics;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>The token loop of one request. It runs on its own thread and hands each token to the reader through a bounded channel.</summary>
/// <remarks>
/// A loop given a <see cref="LoneRequest"/> and its scheduler moves the rest of the request into a batch when a batch
/// worker asks (between two steps): it submits a batch job whose prompt is the prompt and the tokens generated so far,
/// ends, and leaves the job in <see cref="MovedJob"/> for the reader to continue from. Its generator's state is whole
/// and goes to the prefix cache as when a request ends.
/// </remarks>
internal sealed class GenerationLoop(
    Model model,
    OnnxTokenizer tokenizer,
    HashSet<int> eosTokenIds,
    GenerationPlan plan,
    ChannelWriter<TokenUpdate> writer,
    ITokenStreamDecoder decoder,
    CancellationToken stopToken,
    CancellationToken callerToken,
    CancellationToken disposeToken,
    PrefixCacheSession? cache = null,
    LoneRequest? lone = null,
    BatchScheduler? scheduler = null)
{
    // Kept-state bookkeeping for the prefix cache: a chosen token not yet run through the model, and tokens generated.
    private bool _pendingToken;
    private int _generated;

    /// <summary>Gets the batch job that continues the request, once the loop has moved it into a batch; read after the loop ended.</summary>
    public BatchJob? MovedJob { get; private set; }

    public void Run()
    {
        var keep = false;
        try
        {
            stopToken.ThrowIfCancellationRequested();
            if (cache is not null)
            {
                var kept = cache.Start(CreateCacheable);
                RunLoop(kept);
                keep = true;
                writer.TryComplete();
                return;
            }

            using var generatorParams = new GeneratorParams(model);
            ConfigureSearch(generatorParams);
            using var generator = CreateGenerator(generatorParams);
            stopToken.ThrowIfCancellationRequested();
            generator.AppendTokens(plan.PromptTokens);
            RunLoop(generator);
            writer.TryComplete();
        }
        catch (OperationCanceledException) when (stopToken.IsCancellationRequested)
        {
            // Cancelled between steps: the generator's state is whole and may be kept.
            keep = true;
            writer.TryComplete(disposeToken.IsCancellationRequested && !callerToken.IsCancellationRequested
                ? new ObjectDisposedException(nameof(OnnxModelRunner), "The model runner was disposed during generation.")
                : new OperationCanceledException("Generation was cancelled.", null, callerToken));
        }
        catch (OnnxRuntimeGenAIException ex)
        {
            writer.TryComplete(new InferaException($"ONNX Runtime GenAI failed during generation: {ex.Message}", ex));
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
        }
        finally
        {
            // The loop unregisters the lone request it was given as soon as it ends (the queued loop always runs), so that
            // workers stop counting it among the generators stepping.
            if (lone is not null)
            {
                lone.End();
                scheduler?.Unregister(lone);
            }

            cache?.End(keep, _pendingToken, _generated);
        }
    }

    private void RunLoop(Generator generator)
    {
        if (plan.UseInferaSampler)
        {
            RunWithInferaSampler(generator);
        }
        else
        {
            RunWithNativeSearch(generator);
        }
    }

    /// <summary>
    /// Between two steps: when a batch worker has asked, submits the rest of the request to the scheduler and returns
    /// <see langword="true"/> (the loop ends).
    /// </summary>
    private bool MovedIntoBatch(Generator generator)
    {
        if (lone is null || scheduler is null)
        {
            return false;
        }

        lone.OnToken();
        if (!lone.IsAsked || !lone.TryCommit())
        {
            return false;
        }

        // The generator's sequence ends with the tokens generated so far (the last one chosen, not yet computed).
        var generated = generator.GetSequence(0)[^_generated..];
        var prompt = new int[plan.PromptTokens.Length + generated.Length];
        plan.PromptTokens.CopyTo(prompt, 0);
        generated.CopyTo(prompt.AsSpan(plan.PromptTokens.Length));
        var job = new BatchJob(prompt, plan.MaxNewTokens - generated.Length, plan.Options) { MovedFrom = lone };
        scheduler.SubmitMoved(job);
        MovedJob = job;
        return true;
    }

    /// <summary>A generator the prefix cache may keep: the request's search settings, with room for <paramref name="maxLength"/> tokens.</summary>
    private (GeneratorParams, Generator) CreateCacheable(int maxLength)
    {
        var generatorParams = new GeneratorParams(model);
        try
        {
            ConfigureSearch(generatorParams);
            generatorParams.SetSearchOption("max_length", maxLength);
            return (generatorParams, new Generator(model, generatorParams));
        }
        catch
        {
            generatorParams.Dispose();
            throw;
        }
    }

    private Generator CreateGenerator(GeneratorParams generatorParams)
    {
        if (plan.Options.Constraint is not { } constraint)
        {
            return new Generator(model, generatorParams);
        }

        // The grammar is compiled when the generator is created; report a bad one as what it is, before any token.
        try
        {
            generatorParams.SetGuidance(GuidanceType(constraint.Kind), constraint.Text, false);
            return new Generator(model, generatorParams);
        }
        catch (OnnxRuntimeGenAIException ex)
        {
            const string Prefix = "Error creating grammar: ";
            var reason = ex.Message.StartsWith(Prefix, StringComparison.Ordinal) ? ex.Message[Prefix.Length..] : ex.Message;
            throw new ConstraintCompilationException(constraint, reason, ex);
        }
    }

    private static string GuidanceType(DecodingConstraintKind kind) => kind switch
    {
        DecodingConstraintKind.JsonSchema => "json_schema",
        DecodingConstraintKind.Regex => "regex",
        DecodingConstraintKind.LarkGrammar => "lark_grammar",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown decoding constraint kind."),
    };

    private void ConfigureSearch(GeneratorParams generatorParams)
    {
        generatorParams.SetSearchOption("max_length", plan.MaxLength);
        if (plan.UseInferaSampler)
        {
            // When Infera samples, GenAI's own search is not used for choosing tokens.
            generatorParams.SetSearchOption("do_sample", false);
            return;
        }

        GenerationSearch.Apply(generatorParams, plan.Options, plan.VocabularySize);
    }

    private void RunWithNativeSearch(Generator generator)
    {
        for (var index = 0; ; index++)
        {
            stopToken.ThrowIfCancellationRequested();
            generator.GenerateNextToken();
            _pendingToken = true;
            _generated++;
            var token = generator.GetNextTokens()[0];

            // A constraint whose sentence is complete ends the sequence even where its last token is not an EOS token.
            var grammarDone = plan.Options.Constraint is not null && index + 1 < plan.MaxNewTokens && generator.IsDone();
            if (Emit(token, index, null, grammarDone) || MovedIntoBatch(generator))
            {
                return;
            }
        }
    }

    private void RunWithInferaSampler(Generator generator)
    {
        var options = plan.Options;
        var parameters = new SamplingParameters
        {
            Temperature = options.IsGreedy ? 0f : options.Temperature ?? 1f,
            TopK = options.TopK ?? 0,
            TopP = options.TopP ?? 1f,
            MinP = options.MinP ?? 0f,
            RepetitionPenalty = options.RepetitionPenalty ?? 1f,
            FrequencyPenalty = options.FrequencyPenalty ?? 0f,
            PresencePenalty = options.PresencePenalty ?? 0f,
            LogitBias = options.LogitBias,
            LogProbabilities = options.LogProbabilities || options.TopLogProbabilities is > 0,
            TopLogProbabilities = options.TopLogProbabilities ?? 0,
            Seed = unchecked((ulong)(options.Seed ?? Random.Shared.NextInt64())),
        };
        var sampler = new LogitsSampler(parameters, plan.VocabularySize);
        sampler.AddPromptTokens(plan.PromptTokens);
        var logits = new float[plan.VocabularySize];
        Span<int> next = stackalloc int[1];
        for (var index = 0; ; index++)
        {
            stopToken.ThrowIfCancellationRequested();
            LogitsReader.ReadLast(generator, logits);
            var sampled = sampler.Sample(logits);
            sampler.Accept(sampled.TokenId);
            var logProbabilities = parameters.LogProbabilities ? ToLogProbabilities(sampled) : null;
            if (Emit(sampled.TokenId, index, logProbabilities))
            {
                return;
            }

            next[0] = sampled.TokenId;
            generator.AppendTokens(next);
            _generated++;
        }
    }

    private TokenLogProbabilities ToLogProbabilities(SampledToken sampled)
    {
        var alternatives = sampled.TopLogProbabilities is { Count: > 0 } top
            ? top.Select(t => new TokenCandidate(t.TokenId, tokenizer.Decode([t.TokenId]), t.LogProbability)).ToArray()
            : [];
        return new TokenLogProbabilities(sampled.LogProbability, alternatives);
    }

    /// <summary>Hands one token to the reader. Returns <see langword="true"/> when it was the last.</summary>
    private bool Emit(int token, int index, TokenLogProbabilities? logProbabilities, bool sequenceDone = false)
    {
        var isStopToken = eosTokenIds.Contains(token) || plan.Options.StopTokenIds?.Contains(token) == true;
        GenerationFinishReason? finish = isStopToken || sequenceDone
            ? GenerationFinishReason.Stop
            : index + 1 >= plan.MaxNewTokens ? GenerationFinishReason.Length : null;
        var update = new TokenUpdate
        {
            TokenId = token,
            Text = isStopToken ? string.Empty : decoder.Decode(token),
            Index = index,
            PromptTokenCount = plan.PromptTokens.Length,
            CachedPromptTokenCount = cache?.CachedTokens ?? 0,
            FinishReason = finish,
            LogProbabilities = logProbabilities,
        };

        while (!writer.TryWrite(update))
        {
            // The reader is behind: wait on this dedicated thread until the channel has room, or the request stops.
            if (!writer.WaitToWriteAsync(stopToken).AsTask().GetAwaiter().GetResult())
            {
                return true;
            }
        }

        return finish is not null;
    }
}
