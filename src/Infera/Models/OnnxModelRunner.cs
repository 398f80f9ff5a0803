using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>An <see cref="IModelRunner"/> over an ONNX Runtime GenAI model folder.</summary>
/// <remarks>
/// <para>
/// Load a model with <see cref="LoadAsync(string, OnnxModelRunnerOptions?, IProgress{ModelLoadProgress}?, CancellationToken)"/>.
/// The runner is thread-safe: concurrent <see cref="GenerateAsync"/> calls each get their own generator, up to
/// <see cref="MaxConcurrentRequests"/> at once; further requests wait in a queue bounded by
/// <see cref="OnnxModelRunnerOptions.MaxQueuedRequests"/>. Each request's token loop runs on one of the runner's worker threads (never the caller's) and
/// hands tokens to the caller through a bounded channel, so a slow reader slows only its own request.
/// </para>
/// <para>
/// Models whose batched results equal their sequential ones (GroupQueryAttention models, detected when the model
/// loads) batch concurrent requests: one model step advances several of them, on static-batch ONNX Runtime GenAI
/// generators (or GenAI's native Engine) (<see cref="SchedulingMode"/> says which mode is in use and
/// <see cref="SchedulingModeReason"/> why). Greedy output is the same token for token either way.
/// </para>
/// <para>
/// Disposing the runner stops every generation in progress within one token step (their readers get an
/// <see cref="ObjectDisposedException"/>), waits for their loops to end, then frees the model.
/// </para>
/// </remarks>
public sealed class OnnxModelRunner : IModelRunner
{
    private const int ChannelCapacity = 64;

    private readonly Model _model;
    private readonly OnnxTokenizer _tokenizer;
    private readonly RequestGate _gate;
    private readonly CancellationTokenSource _disposeCts = new();
    private readonly ConcurrentDictionary<long, Task> _activeLoops = new();
    private readonly HashSet<int> _eosTokenIds;
    private readonly SamplingMode _samplingMode;
    private readonly BatchScheduler? _scheduler;
    private readonly GenerationWorkers _workers;
    private readonly PrefixCache? _prefixCache;
    private long _nextRequestId;
    private int _disposed;

    private OnnxModelRunner(Model model, OnnxTokenizer tokenizer, ModelMetadata metadata, OnnxModelRunnerOptions options, int maxConcurrent, BatchScheduler? scheduler, string schedulingReason, string threadsReason, PrefixCache? prefixCache, GenerationWorkers workers)
    {
        _prefixCache = prefixCache;
        _model = model;
        _tokenizer = tokenizer;
        Metadata = metadata;
        MaxConcurrentRequests = maxConcurrent;
        _gate = new RequestGate(maxConcurrent, options.MaxQueuedRequests);
        _eosTokenIds = [.. metadata.EosTokenIds];
        _samplingMode = options.SamplingMode;
        _scheduler = scheduler;
        if (scheduler is not null)
        {
            scheduler.FreeSlots = () => _gate.Free;
        }

        _workers = workers;
        SchedulingModeReason = schedulingReason;
        IntraOpThreadsReason = threadsReason;
        GenerationInstrumentation.Register(this);
    }

    /// <inheritdoc />
    public ModelMetadata Metadata { get; }

    /// <inheritdoc />
    public ITokenizer Tokenizer => _tokenizer;

    /// <summary>
    /// Gets how many requests generate at the same time: <see cref="OnnxModelRunnerOptions.MaxConcurrentRequests"/>, or
    /// the runner's choice for the model and the machine when that is <see langword="null"/>.
    /// </summary>
    public int MaxConcurrentRequests { get; }

    /// <summary>Gets the number of requests generating right now.</summary>
    public int RunningRequests => Math.Max(0, _gate.Running - (_scheduler?.Queued ?? 0));

    /// <summary>Gets the number of requests waiting for a free slot (or, in batched mode, for a batch).</summary>
    public int QueuedRequests => _gate.Queued + (_scheduler?.Queued ?? 0);

    /// <summary>Gets how concurrent requests are scheduled: batched (one model step advances several requests), or one generator per request.</summary>
    public SchedulingMode SchedulingMode => _scheduler is null ? SchedulingMode.PerRequest : SchedulingMode.Batched;

    /// <summary>Gets why the runner chose its <see cref="SchedulingMode"/>, in words (also logged when the model loads).</summary>
    public string SchedulingModeReason { get; }

    /// <summary>
    /// Gets why the runner uses <see cref="ModelMetadata.IntraOpThreads"/> threads per operator, in words: set by the app,
    /// by the model's <c>genai_config.json</c>, or chosen for the model's size and the machine (see
    /// <see cref="OnnxModelRunnerOptions.IntraOpThreads"/>).
    /// </summary>
    public string IntraOpThreadsReason { get; }

    /// <summary>Gets what batches are advanced with in batched mode, or <see langword="null"/> in per-request mode.</summary>
    internal BatchingKind? Batching => _scheduler?.Kind;

    /// <summary>Gets the number of requests advanced together by the current batch steps, or the generators running in per-request mode.</summary>
    internal int BatchSize => _scheduler?.ActiveRows ?? _gate.Running;

    /// <summary>Gets the fraction of the batches' key-value cache capacity in use (0 in per-request mode).</summary>
    internal double KeyValueCacheUsage => _scheduler?.KeyValueCacheUsage(Metadata.ContextLength) ?? 0;

    /// <summary>Gets the batch steps (one model run over a batch) run since the model loaded (0 in per-request mode).</summary>
    internal long EngineSteps => _scheduler?.Steps ?? 0;

    /// <summary>Gets the number of requests that began on a generator of their own and moved into a batch (<see cref="LoneRequest"/>).</summary>
    internal long MovedIntoBatch => _scheduler?.MovedRequests ?? 0;

    /// <summary>Gets the batch scheduler in batched mode.</summary>
    internal BatchScheduler? Scheduler => _scheduler;

    /// <summary>Gets a snapshot of the prefix cache's use, or <see langword="null"/> when it is off (<see cref="OnnxModelRunnerOptions.PrefixCacheBytes"/> = 0).</summary>
    public PrefixCacheStatistics? PrefixCacheStatistics => _prefixCache is { } cache
        ? new PrefixCacheStatistics(cache.BudgetBytes, cache.Bytes, cache.Count, cache.Hits, cache.Misses, cache.HitTokens, cache.Evictions)
        : null;

    /// <summary>Gets the prefix cache, or <see langword="null"/> when it is off.</summary>
    internal PrefixCache? PrefixCache => _prefixCache;

    /// <summary>Gets the underlying ONNX Runtime GenAI model, for code that drives it directly (such as a batching engine).</summary>
    internal Model NativeModel => _model;

    /// <summary>Loads a model folder with default options on the CPU.</summary>
    /// <param name="modelPath">The ONNX Runtime GenAI model folder (holding <c>genai_config.json</c>).</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The loaded runner.</returns>
    public static Task<OnnxModelRunner> LoadAsync(string modelPath, CancellationToken cancellationToken = default) =>
        LoadAsync(modelPath, null, null, cancellationToken);

    /// <summary>Loads a model folder.</summary>
    /// <param name="modelPath">The ONNX Runtime GenAI model folder (holding <c>genai_config.json</c>), or a reference a registered <see cref="IModelSourceResolver"/> turns into one (a GGUF file, see <see cref="ModelSources"/>).</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Receives progress reports, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The loaded runner.</returns>
    /// <exception cref="ModelLoadException">The folder is missing, incomplete, or its model cannot be loaded; the message says which.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">The execution provider (and every fallback) cannot run here.</exception>
    public static async Task<OnnxModelRunner> LoadAsync(string modelPath, OnnxModelRunnerOptions? options, IProgress<ModelLoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        options ??= new OnnxModelRunnerOptions();
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();

        // A GGUF file or a model name becomes a folder through the registered resolvers (ModelSources), importing it once.
        var importProgress = progress is null ? null : new Progress<double>(f => progress.Report(new ModelLoadProgress("Importing the model", f * 0.2)));
        modelPath = await ModelSources.ResolveAsync(modelPath, importProgress, cancellationToken).ConfigureAwait(false);

        // Loading reads the whole model and blocks; keep it off the caller's thread.
        return await Task.Run(() => Load(modelPath, options, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private static OnnxModelRunner Load(string modelPath, OnnxModelRunnerOptions options, IProgress<ModelLoadProgress>? progress, CancellationToken cancellationToken)
    {
        OnnxRuntimeTelemetry.TurnOffUnlessSet();
        progress?.Report(new ModelLoadProgress("Checking the model folder", 0.0));
        var folder = ModelFolder.Open(modelPath);
        var chatTemplate = options.ChatTemplate ?? folder.ReadChatTemplate();
        var attention = folder.DetectAttentionOperator();
        var lastPositionLogits = folder.HasLastPositionLogitsOnly();
        cancellationToken.ThrowIfCancellationRequested();

        progress?.Report(new ModelLoadProgress("Checking the execution provider", 0.1));
        var provider = ChooseProvider(options);
        var batching = ChooseBatching(options, folder.ReadTokenId("pad_token_id"));
        var batched = IntraOpThreadPolicy.WillBatch(options, attention) && !lastPositionLogits;
        var rowsPerWorker = batching == BatchingKind.Generator ? GeneratorBatchRows(options) : IntraOpThreadPolicy.EngineRows;
        var (threads, maxConcurrent) = IntraOpThreadPolicy.Choose(
            options,
            folder.ReadIntraOpThreads(),
            folder.WeightBytes(),
            Environment.ProcessorCount,
            batched,
            rowsPerWorker);

        var batchWorkers = batched ? (maxConcurrent + rowsPerWorker - 1) / rowsPerWorker : 0;
        var noCpuArena = IntraOpThreadPolicy.TurnsOffCpuArena(threads, Environment.ProcessorCount, batchWorkers, folder.SetsSessionOption("enable_cpu_mem_arena"), provider.Name);
        var heapKept = noCpuArena && Native.HeapReuse.KeepFreedMemory();

        progress?.Report(new ModelLoadProgress("Loading the model", 0.2));
        Model? model = null;
        var workers = new GenerationWorkers(options.ModelId ?? folder.Name);
        try
        {
            using (var config = new Config(folder.Path))
            {
                provider.Configure(new ExecutionProviderConfiguration(config));
                if (threads is { Overlay: true, Threads: int count })
                {
                    config.Overlay("{\"model\":{\"decoder\":{\"session_options\":{\"intra_op_num_threads\":" + count.ToString(CultureInfo.InvariantCulture) + "}}}}");
                }

                if (noCpuArena)
                {
                    config.Overlay("{\"model\":{\"decoder\":{\"session_options\":{\"enable_cpu_mem_arena\":false}}}}");
                }

                // The graph for this CPU's int4 kernels, when the folder has one per kind of CPU (ModelFolder.MachineDecoderFile).
                if (folder.MachineDecoderFile(CpuInstructionSets.HasInt8DotProduct) is { } decoderFile)
                {
                    config.Overlay("{\"model\":{\"decoder\":{\"filename\":\"" + decoderFile + "\"}}}");
                }

                // Creating the session maps and unmaps the folder's files: not while pages are released (Native.MappedModelFiles).
                using (Native.MappedModelFiles.ChangingMappings())
                {
                    model = new Model(config);
                }
            }

            cancellationToken.ThrowIfCancellationRequested();

            // On the CPU, the file pages ONNX Runtime read to prepack weights are not read again: out of the resident set
            // (Native.MappedModelFiles). Asked for, the prepacked weights go onto 2 MiB pages (Native.HugePages).
            long hugePageBytes = 0, releasedBytes = 0;
            var hugePagesTime = TimeSpan.Zero;
            if (provider.Name == "cpu")
            {
                var start = Stopwatch.GetTimestamp();
                hugePageBytes = Native.HugePages.IsEnabled && folder.WeightBytes() >= Native.HugePages.MinimumModelBytes ? Native.HugePages.CollapseResidentAnonymousMemory() : 0;
                hugePagesTime = Stopwatch.GetElapsedTime(start);
                releasedBytes = Native.MappedModelFiles.Release(folder.Path);
            }
            cancellationToken.ThrowIfCancellationRequested();

            progress?.Report(new ModelLoadProgress("Loading the tokenizer", 0.85));
            var eos = folder.ReadTokenIds("eos_token_id");
            var bos = folder.ReadTokenId("bos_token_id");
            var pad = folder.ReadTokenId("pad_token_id");
            var special = eos.Concat(bos is int b ? [b] : []).ToArray();
            var tokenizer = new OnnxTokenizer(model, chatTemplate, special);
            if (provider.Name == "cpu")
            {
                Native.HeapReuse.TrimAfterLoad();
            }

            // After the tokenizer, whose allocations would otherwise take the C heap pages the warm-up leaves for the first request.
            progress?.Report(new ModelLoadProgress("Warming up the model", 0.9));
            var contextLength = Math.Min(folder.ContextLength, options.ContextLength ?? int.MaxValue);
            var prefixCache = PrefixCacheFactory.Create(folder, contextLength, options.PrefixCacheBytes);
            var warmUp = GenerationWorkers.CreateCompletion();
            workers.Start(() => WarmUp(model, folder.VocabularySize, contextLength, prefixCache), warmUp);
            warmUp.Task.GetAwaiter().GetResult();
            cancellationToken.ThrowIfCancellationRequested();
            var metadata = new ModelMetadata
            {
                ModelId = options.ModelId ?? folder.Name,
                ModelPath = folder.Path,
                ModelType = folder.ModelType,
                ContextLength = contextLength,
                VocabularySize = folder.VocabularySize,
                BosTokenId = bos,
                EosTokenIds = eos,
                PadTokenId = pad,
                ExecutionProvider = provider.Name,
                IntraOpThreads = threads.Threads,
                AttentionOperator = attention,
            };
            var loadLogger = (ILogger?)options.LoggerFactory?.CreateLogger<OnnxModelRunner>() ?? NullLogger.Instance;
            SchedulingLog.Threads(
                loadLogger,
                metadata.ModelId,
                threads.Threads?.ToString(CultureInfo.InvariantCulture) ?? "ONNX Runtime's default",
                threads.Reason);
            if (noCpuArena)
            {
                SchedulingLog.NoCpuArena(loadLogger, metadata.ModelId, heapKept ? "freed tensors are kept in the C heap for the next step" : "the C heap's thresholds are left as they are");
            }
            if (hugePageBytes > 0)
            {
                SchedulingLog.HugePages(loadLogger, metadata.ModelId, hugePageBytes >> 20, (long)hugePagesTime.TotalMilliseconds);
            }

            if (releasedBytes > 0)
            {
                SchedulingLog.ReleasedModelPages(loadLogger, metadata.ModelId, releasedBytes >> 20);
            }

            progress?.Report(new ModelLoadProgress("Starting the scheduler", 0.95));
            var (scheduler, reason) = CreateScheduler(model, metadata, options, maxConcurrent, lastPositionLogits, batching, folder.WeightBytes());
            progress?.Report(new ModelLoadProgress("Loaded", 1.0));
            return new OnnxModelRunner(model, tokenizer, metadata, options, maxConcurrent, scheduler, reason, threads.Reason, prefixCache, workers);
        }
        catch (Exception ex) when (ex is OnnxRuntimeGenAIException)
        {
            workers.Dispose();
            DisposeModel(model);
            throw ModelFolder.Fail(folder.Path, $"ONNX Runtime GenAI could not load the model in '{folder.Path}': {ex.Message}", ex);
        }
        catch
        {
            workers.Dispose();
            DisposeModel(model);
            throw;
        }
    }

    /// <summary>
    /// Runs an 8-token prompt and one step, so that ONNX Runtime's first-run work (kernel set-up, the first allocations of
    /// its arena) happens while the model loads rather than in the first request (measured in docs/benchmarks/model-builder.md).
    /// It runs on a generation worker, the thread the first request will run on, with the room a cacheable request's
    /// generator gets, so that the C heap has key/value pages for the first request. A model that cannot run fails in the
    /// request that uses it, with that request's error, as without the warm-up.
    /// </summary>
    private static void WarmUp(Model model, int vocabularySize, int contextLength, PrefixCache? prefixCache)
    {
        const int PromptLength = 8;
        if (contextLength <= PromptLength + 1 || vocabularySize < 2)
        {
            return;
        }

        try
        {
            using var parameters = new GeneratorParams(model);
            parameters.SetSearchOption("max_length", prefixCache?.Layout.CapacityFor(PromptLength + 1) ?? PromptLength + 1);
            parameters.SetSearchOption("do_sample", false);
            using var generator = new Generator(model, parameters);
            generator.AppendTokens(Enumerable.Range(1, PromptLength).Select(i => i % vocabularySize).ToArray());
            generator.GenerateNextToken();
        }
        catch (OnnxRuntimeGenAIException)
        {
        }
    }

    /// <summary>
    /// What batches run on: static-batch generators by default; GenAI's Engine when the options or the environment
    /// variable <c>INFERA_BATCHING=engine</c> ask for it, or when the model names no pad token to right-pad prompts with.
    /// </summary>
    private static BatchingKind ChooseBatching(OnnxModelRunnerOptions options, int? padTokenId)
    {
        var kind = options.Batching ?? (Environment.GetEnvironmentVariable("INFERA_BATCHING")?.Trim().ToLowerInvariant() switch
        {
            "engine" => BatchingKind.Engine,
            _ => BatchingKind.Generator,
        });
        return kind == BatchingKind.Generator && padTokenId is null ? BatchingKind.Engine : kind;
    }

    /// <summary>The rows of one batch generator: <see cref="OnnxModelRunnerOptions.BatchRows"/>, or <see cref="DefaultGeneratorBatchRows"/>.</summary>
    private static int GeneratorBatchRows(OnnxModelRunnerOptions options) => options.BatchRows ?? DefaultGeneratorBatchRows;

    /// <summary>
    /// The rows of one batch generator unless the options say otherwise: as many batch workers as the runner's
    /// concurrency needs at 4 rows each, one per processor for a small model, so that the batches step on every
    /// processor at once. On 2 processors 8 concurrent requests as 2 generators of 4 rows served more tokens per second
    /// over HTTP than one generator of 8 rows (docs/benchmarks/serving.md).
    /// </summary>
    internal const int DefaultGeneratorBatchRows = IntraOpThreadPolicy.EngineRows;

    private static (BatchScheduler? Scheduler, string Reason) CreateScheduler(Model model, ModelMetadata metadata, OnnxModelRunnerOptions options, int maxConcurrent, bool lastPositionLogits, BatchingKind batching, long weightBytes)
    {
        var logger = (ILogger?)options.LoggerFactory?.CreateLogger<OnnxModelRunner>() ?? NullLogger.Instance;
        string reason;
        if (!options.EnableBatching)
        {
            reason = "batching is turned off (OnnxModelRunnerOptions.EnableBatching).";
        }
        else if (options.SamplingMode == SamplingMode.Infera)
        {
            reason = "SamplingMode.Infera samples every token in .NET, which a batch cannot do.";
        }
        else if (lastPositionLogits)
        {
            // GenAI's static Engine binds logits for every prompt position, and a right-padded batch needs each row's own
            // last prompt position; a generator of its own binds the one position such a graph computes.
            reason = "the model computes logits for the last position only ([batch, 1, vocabulary]): GenAI's Engine cannot bind them for prompts, and a right-padded batch needs each row's own last prompt position.";
        }
        else if (metadata.AttentionOperator != "GroupQueryAttention")
        {
            // GenAI's static Engine right-pads shorter prompts; only GroupQueryAttention's per-row lengths keep batched
            // results equal to sequential ones (plain attention over concatenated past/present diverges).
            reason = $"the model's attention ({metadata.AttentionOperator ?? "unknown"}) does not give batched results equal to sequential ones; only GroupQueryAttention models are batched.";
        }
        else
        {
            try
            {
                BatchScheduler scheduler;
                if (batching == BatchingKind.Generator)
                {
                    var settings = new GeneratorBatchSettings(GeneratorBatchRows(options), metadata.PadTokenId!.Value, metadata.ContextLength, metadata.VocabularySize, metadata.EosTokenIds.ToHashSet());
                    scheduler = BatchScheduler.CreateAsync(model, maxConcurrent, settings).GetAwaiter().GetResult();
                    reason = $"GroupQueryAttention model: {scheduler.WorkerCount} static-batch generator(s) of up to {scheduler.BatchCapacity} rows.";
                }
                else
                {
                    scheduler = BatchScheduler.CreateAsync(model, maxConcurrent).GetAwaiter().GetResult();
                    reason = $"GroupQueryAttention model: {scheduler.WorkerCount} ONNX Runtime GenAI Engine(s) of {scheduler.BatchCapacity} rows.";
                }

                // Generators beyond what the processors step at once share them: a batch then takes lone requests in, on a
                // model whose prompts cost little (LoneRequest.MovesFor).
                scheduler.ParallelGenerators = LoneRequest.MovesFor(weightBytes)
                    ? Math.Max(1, Environment.ProcessorCount / Math.Max(1, metadata.IntraOpThreads ?? Environment.ProcessorCount))
                    : int.MaxValue;
                SchedulingLog.Batched(logger, metadata.ModelId, GenerationInstrumentation.BatchingName(scheduler.Kind), scheduler.WorkerCount, scheduler.BatchCapacity, metadata.AttentionOperator);
                return (scheduler, reason);
            }
            catch (InferaException ex)
            {
                reason = "ONNX Runtime GenAI's Engine cannot run this model: " + ex.Message;
            }
        }

        SchedulingLog.PerRequest(logger, metadata.ModelId, reason);
        return (null, reason);
    }

    private static ExecutionProvider ChooseProvider(OnnxModelRunnerOptions options)
    {
        var candidates = new List<ExecutionProvider> { options.ExecutionProvider ?? DefaultCpuProvider.Instance };
        candidates.AddRange(options.FallbackExecutionProviders);
        ExecutionProviderAvailability? first = null;
        foreach (var candidate in candidates)
        {
            var availability = candidate.GetAvailability();
            if (availability.IsAvailable)
            {
                return candidate;
            }

            first ??= availability;
        }

        throw new ExecutionProviderUnavailableException(first!);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<TokenUpdate> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tokens = GenerateCoreAsync(request, cancellationToken);

        // Measuring costs a layer of iteration per token: only when a metrics or tracing listener is there to see it.
        return GenerationInstrumentation.IsObserved ? GenerationInstrumentation.Instrument(tokens, this, request, cancellationToken) : tokens;
    }

    private async IAsyncEnumerable<TokenUpdate> GenerateCoreAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var plan = GenerationPlan.Create(request, Metadata, _tokenizer, _samplingMode, batched: _scheduler is not null);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposeCts.Token);
        RequestGate.Slot slot;
        try
        {
            slot = await _gate.EnterAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_disposeCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(OnnxModelRunner), "The model runner was disposed while the request waited for a slot.");
        }

        using var releaseSlot = slot;
        var cacheSession = PrefixCacheSession.TryStart(_prefixCache, plan);
        if (_scheduler is { } scheduler && CanBatch(plan) && !PrefixCacheFactory.PreferGenerator(_prefixCache, cacheSession, plan, scheduler, _gate.Running))
        {
            await foreach (var update in GenerateBatchedAsync(scheduler, plan, cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }

            yield break;
        }

        var channel = Channel.CreateBounded<TokenUpdate>(new BoundedChannelOptions(ChannelCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,

            // The reader continues on the worker that wrote the token (unless it has a synchronization context): no
            // thread-pool hand-off per token. Measured in docs/benchmarks/generation.md.
            AllowSynchronousContinuations = true,
        });

        // A request a batch could take may move into one when a burst fills the batch workers (LoneRequest).
        using var decoder = _tokenizer.CreateStreamDecoder();
        var lone = _scheduler is { MovesLoneRequests: true } && CanBatch(plan) ? new LoneRequest(plan) : null;
        if (lone is not null)
        {
            _scheduler!.Register(lone);
        }

        // Register the loop before starting it, so that DisposeAsync either waits for it or cancelled it before its first step.
        var id = Interlocked.Increment(ref _nextRequestId);
        var loop = new GenerationLoop(_model, _tokenizer, _eosTokenIds, plan, channel.Writer, decoder, stop.Token, cancellationToken, _disposeCts.Token, cacheSession, lone, _scheduler);
        var completion = GenerationWorkers.CreateCompletion();
        var worker = completion.Task;
        _activeLoops[id] = worker;
        _workers.Start(loop.Run, completion);
        var drained = false;
        try
        {
            // Read the channel directly rather than through ReadAllAsync: one iterator less between a token and its reader.
            var reader = channel.Reader;
            while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                while (reader.TryRead(out var update))
                {
                    // Tokens already in the channel are not handed out once the caller has cancelled.
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return update;
                }
            }

            drained = true;
        }
        finally
        {
            // The reader may stop early (break, an exception, or disposal of the enumerator): stop the loop at its next step.
            await stop.CancelAsync().ConfigureAwait(false);
            await worker.ConfigureAwait(false);
            _activeLoops.TryRemove(id, out _);

            if (!drained)
            {
                // A reader that stopped early leaves a moved request's batch row to end at the batch's next step.
                loop.MovedJob?.Cancel();
            }
        }

        if (loop.MovedJob is { } moved)
        {
            // The batch continues after the tokens the loop generated: they end the moved job's prompt.
            var generated = moved.PromptTokens.Length - plan.PromptTokens.Length;
            await foreach (var update in ReadBatchedAsync(moved, plan, decoder, generated, cacheSession?.CachedTokens ?? 0, cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }
        }
    }

    /// <summary>Whether a batch produces exactly what a generator of its own would for this request.</summary>
    private static bool CanBatch(GenerationPlan plan)
    {
        var options = plan.Options;

        // A seeded sampled request draws its own random numbers (a batch's rows share one generator's); constraints and
        // Infera's sampler run on a generator of their own.
        var seededSampling = options.Seed is not null && !options.IsGreedy;
        return !plan.UseInferaSampler && !seededSampling && options.Constraint is null;
    }

    private async IAsyncEnumerable<TokenUpdate> GenerateBatchedAsync(BatchScheduler scheduler, GenerationPlan plan, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var job = new BatchJob(plan.PromptTokens, plan.MaxNewTokens, plan.Options);
        using var decoder = _tokenizer.CreateStreamDecoder();
        scheduler.Submit(job);
        await foreach (var update in ReadBatchedAsync(job, plan, decoder, 0, 0, cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
    }

    /// <summary>
    /// Reads a batch job's tokens as the request's updates, numbered from <paramref name="firstIndex"/> (a request that
    /// moved into a batch after generating that many tokens on a generator of its own).
    /// </summary>
    private async IAsyncEnumerable<TokenUpdate> ReadBatchedAsync(BatchJob job, GenerationPlan plan, ITokenStreamDecoder decoder, int firstIndex, int cachedPromptTokens, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var index = firstIndex;
        try
        {
            while (true)
            {
                BatchOutput output;
                try
                {
                    if (!await job.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        // Completed without a finish event: Completion carries the reason, rethrown here.
                        await job.Reader.Completion.ConfigureAwait(false);
                        yield break;
                    }
                }
                catch (OperationCanceledException) when (Volatile.Read(ref _disposed) != 0 && !cancellationToken.IsCancellationRequested)
                {
                    throw new ObjectDisposedException(nameof(OnnxModelRunner), "The model runner was disposed during generation.");
                }

                if (!job.Reader.TryRead(out output))
                {
                    continue;
                }

                int token;
                if (output.HasToken)
                {
                    token = output.TokenId;
                }
                else if (output.FinishReason == NativeMethods.FinishReasonEos)
                {
                    // The Engine ends a turn on end-of-sequence without reporting the token; a generator reports it.
                    token = Metadata.EosTokenIds.Count > 0 ? Metadata.EosTokenIds[0] : -1;
                }
                else
                {
                    await job.Reader.Completion.ConfigureAwait(false);
                    yield break;
                }

                var isStop = _eosTokenIds.Contains(token) || plan.Options.StopTokenIds?.Contains(token) == true;
                GenerationFinishReason? finish = isStop ? GenerationFinishReason.Stop
                    : output.IsFinished || index + 1 >= plan.MaxNewTokens ? GenerationFinishReason.Length
                    : null;
                yield return new TokenUpdate
                {
                    TokenId = token,
                    Text = isStop ? string.Empty : decoder.Decode(token),
                    Index = index,
                    PromptTokenCount = plan.PromptTokens.Length,
                    CachedPromptTokenCount = cachedPromptTokens,
                    FinishReason = finish,
                };
                index++;
                if (finish is not null)
                {
                    yield break;
                }
            }
        }
        finally
        {
            // No-op when the job finished; otherwise the Engine closes the request before its next step.
            job.Cancel();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        var disposal = DisposeAsync();
        if (GenerationWorkers.IsCurrentThreadWorker)
        {
            // Called from a reader's code running on a generation worker: waiting here would wait for this very thread's
            // loop. Disposal has begun (new requests fail, loops stop at their next step) and completes once they have.
            return;
        }

        disposal.AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        GenerationInstrumentation.Unregister(this);
        await _disposeCts.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_activeLoops.Values).ConfigureAwait(false);
        _workers.Dispose();
        if (_scheduler is not null)
        {
            await _scheduler.DisposeAsync().ConfigureAwait(false);
        }

        _prefixCache?.Dispose();
        _tokenizer.Dispose();
        DisposeModel(_model);
    }

    /// <summary>Frees a model's session, which unmaps its files: not while pages are released (Native.MappedModelFiles).</summary>
    private static void DisposeModel(Model? model)
    {
        using (Native.MappedModelFiles.ChangingMappings())
        {
            model?.Dispose();
        }
    }
}
