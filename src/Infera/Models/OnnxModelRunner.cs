using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>An <see cref="IModelRunner"/> over an ONNX Runtime GenAI model folder.</summary>
/// <remarks>
/// <para>
/// Load a model with <see cref="LoadAsync(string, OnnxModelRunnerOptions?, IProgress{ModelLoadProgress}?, CancellationToken)"/>.
/// The runner is thread-safe: concurrent <see cref="GenerateAsync"/> calls each get their own generator, up to
/// <see cref="OnnxModelRunnerOptions.MaxConcurrentRequests"/> at once; further requests wait in a queue bounded by
/// <see cref="OnnxModelRunnerOptions.MaxQueuedRequests"/>. Each request's token loop runs on a dedicated thread and
/// hands tokens to the caller through a bounded channel, so a slow reader slows only its own request.
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
    private long _nextRequestId;
    private int _disposed;

    private OnnxModelRunner(Model model, OnnxTokenizer tokenizer, ModelMetadata metadata, OnnxModelRunnerOptions options)
    {
        _model = model;
        _tokenizer = tokenizer;
        Metadata = metadata;
        _gate = new RequestGate(options.MaxConcurrentRequests, options.MaxQueuedRequests);
        _eosTokenIds = [.. metadata.EosTokenIds];
        _samplingMode = options.SamplingMode;
    }

    /// <inheritdoc />
    public ModelMetadata Metadata { get; }

    /// <inheritdoc />
    public ITokenizer Tokenizer => _tokenizer;

    /// <summary>Gets the number of requests generating right now.</summary>
    public int RunningRequests => _gate.Running;

    /// <summary>Gets the number of requests waiting for a free slot.</summary>
    public int QueuedRequests => _gate.Queued;

    /// <summary>Gets the underlying ONNX Runtime GenAI model, for code that drives it directly (such as a batching engine).</summary>
    internal Model NativeModel => _model;

    /// <summary>Loads a model folder with default options on the CPU.</summary>
    /// <param name="modelPath">The ONNX Runtime GenAI model folder (holding <c>genai_config.json</c>).</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The loaded runner.</returns>
    public static Task<OnnxModelRunner> LoadAsync(string modelPath, CancellationToken cancellationToken = default) =>
        LoadAsync(modelPath, null, null, cancellationToken);

    /// <summary>Loads a model folder.</summary>
    /// <param name="modelPath">The ONNX Runtime GenAI model folder (holding <c>genai_config.json</c>).</param>
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

        // Loading reads the whole model and blocks; keep it off the caller's thread.
        return await Task.Run(() => Load(modelPath, options, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private static OnnxModelRunner Load(string modelPath, OnnxModelRunnerOptions options, IProgress<ModelLoadProgress>? progress, CancellationToken cancellationToken)
    {
        progress?.Report(new ModelLoadProgress("Checking the model folder", 0.0));
        var folder = ModelFolder.Open(modelPath);
        var chatTemplate = folder.ReadChatTemplate();
        var attention = folder.DetectAttentionOperator();
        cancellationToken.ThrowIfCancellationRequested();

        progress?.Report(new ModelLoadProgress("Checking the execution provider", 0.1));
        var provider = ChooseProvider(options);
        var threads = options.IntraOpThreads ?? Environment.ProcessorCount;

        progress?.Report(new ModelLoadProgress("Loading the model", 0.2));
        Model? model = null;
        try
        {
            using (var config = new Config(folder.Path))
            {
                provider.Configure(new ExecutionProviderConfiguration(config));
                config.Overlay("{\"model\":{\"decoder\":{\"session_options\":{\"intra_op_num_threads\":" + threads.ToString(CultureInfo.InvariantCulture) + "}}}}");
                model = new Model(config);
            }

            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new ModelLoadProgress("Loading the tokenizer", 0.9));
            var eos = folder.ReadTokenIds("eos_token_id");
            var bos = folder.ReadTokenId("bos_token_id");
            var pad = folder.ReadTokenId("pad_token_id");
            var special = eos.Concat(bos is int b ? [b] : []).ToArray();
            var tokenizer = new OnnxTokenizer(model, chatTemplate, special);
            var contextLength = Math.Min(folder.ContextLength, options.ContextLength ?? int.MaxValue);
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
                IntraOpThreads = threads,
                AttentionOperator = attention,
            };
            progress?.Report(new ModelLoadProgress("Loaded", 1.0));
            return new OnnxModelRunner(model, tokenizer, metadata, options);
        }
        catch (Exception ex) when (ex is OnnxRuntimeGenAIException)
        {
            model?.Dispose();
            throw ModelFolder.Fail(folder.Path, $"ONNX Runtime GenAI could not load the model in '{folder.Path}': {ex.Message}", ex);
        }
        catch
        {
            model?.Dispose();
            throw;
        }
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
    public async IAsyncEnumerable<TokenUpdate> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var plan = GenerationPlan.Create(request, Metadata, _tokenizer, _samplingMode);

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
        var channel = Channel.CreateBounded<TokenUpdate>(new BoundedChannelOptions(ChannelCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        // Register the loop before starting it, so that DisposeAsync either waits for it or cancelled it before its first step.
        var id = Interlocked.Increment(ref _nextRequestId);
        var loop = new GenerationLoop(_model, _tokenizer, _eosTokenIds, plan, channel.Writer, stop.Token, cancellationToken, _disposeCts.Token);
        var worker = new Task(loop.Run, CancellationToken.None, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach);
        _activeLoops[id] = worker;
        worker.Start(TaskScheduler.Default);
        try
        {
            await foreach (var update in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                // Tokens already in the channel are not handed out once the caller has cancelled.
                cancellationToken.ThrowIfCancellationRequested();
                yield return update;
            }
        }
        finally
        {
            // The reader may stop early (break, an exception, or disposal of the enumerator): stop the loop at its next step.
            await stop.CancelAsync().ConfigureAwait(false);
            await worker.ConfigureAwait(false);
            _activeLoops.TryRemove(id, out _);
        }
    }

    /// <inheritdoc />
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposeCts.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_activeLoops.Values).ConfigureAwait(false);
        _tokenizer.Dispose();
        _model.Dispose();
    }
}
