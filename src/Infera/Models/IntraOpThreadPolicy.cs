using System.Globalization;

namespace Infera;

/// <summary>
/// Chooses how many threads one CPU operator may use (ONNX Runtime's <c>intra_op_num_threads</c>) when a model loads.
/// </summary>
/// <remarks>
/// In order: the app's <see cref="OnnxModelRunnerOptions.IntraOpThreads"/>; the model folder's own
/// <c>genai_config.json</c> session options (for example written by the converter's <c>--threads</c>); otherwise a
/// default from the model's size and the machine. A decode step of a small model is hundreds of tiny operators: handing
/// each to a second thread and waiting for it costs more than the work it takes over (stories260K decodes faster on one
/// thread than on two: docs/benchmarks/generation.md), so models below <see cref="SmallModelBytes"/> run
/// each operator on one thread. Larger models use every processor, divided among the Engines that step concurrently
/// when requests are batched (each Engine is its own thread driving the same model).
/// </remarks>
internal static class IntraOpThreadPolicy
{
    /// <summary>Model files (graph and weights) below this size count as small: one thread per operator.</summary>
    public const long SmallModelBytes = 32L << 20;

    /// <summary>
    /// The rows of one GenAI 0.18 CPU Engine batch, and of one batch generator by default: used to foresee how many batch
    /// workers will step at once.
    /// </summary>
    public const int EngineRows = 4;

    /// <summary>Chooses the thread count.</summary>
    /// <param name="requested">The app's choice (<see cref="OnnxModelRunnerOptions.IntraOpThreads"/>), or <see langword="null"/>.</param>
    /// <param name="configured">The model folder's <c>intra_op_num_threads</c>, or <see langword="null"/> when it sets none.</param>
    /// <param name="weightBytes">The size of the model's ONNX files.</param>
    /// <param name="processorCount">The processors this process may run on.</param>
    /// <param name="batchedEngines">The Engines that will step concurrently (0 when requests are not batched).</param>
    /// <returns>The choice: <see cref="IntraOpThreadChoice.Overlay"/> says whether the runner must set it on the model's configuration.</returns>
    public static IntraOpThreadChoice Choose(int? requested, int? configured, long weightBytes, int processorCount, int batchedEngines)
    {
        if (requested is int r)
        {
            return new IntraOpThreadChoice(r, true, "set by OnnxModelRunnerOptions.IntraOpThreads");
        }

        if (configured is int c)
        {
            return c == 0
                ? new IntraOpThreadChoice(null, false, "genai_config.json sets intra_op_num_threads 0: ONNX Runtime's default")
                : new IntraOpThreadChoice(c, false, "set by the model's genai_config.json session options");
        }

        var mib = (weightBytes / (1024.0 * 1024.0)).ToString("F1", CultureInfo.InvariantCulture);
        if (weightBytes < SmallModelBytes || processorCount <= 1)
        {
            return new IntraOpThreadChoice(1, true, $"small model ({mib} MiB of model files): one thread per operator costs less than handing operators over");
        }

        if (batchedEngines > 1)
        {
            var share = Math.Max(1, processorCount / batchedEngines);
            return new IntraOpThreadChoice(share, true, $"{mib} MiB model batched on {batchedEngines} Engines: {processorCount} processors shared among them");
        }

        return new IntraOpThreadChoice(processorCount, true, $"{mib} MiB model: every processor ({processorCount})");
    }

    /// <summary>
    /// Whether the runner turns off ONNX Runtime's CPU memory arena (<c>enable_cpu_mem_arena</c>): when several batch
    /// workers step at the same time on processors they share (fewer threads per operator than processors), unless the
    /// model folder sets the option itself. The arena is one allocator per session behind one lock, and every operator's
    /// output is allocated from it: two batch workers of stories260K-gqa on 2 processors spent most of their system calls
    /// waiting for that lock (a 4-row step 157-171 us against 140 us without the arena; 8 concurrent requests to
    /// <c>infera serve</c> 23k against 29k tokens/s). A lone generator of that model steps as fast either way (71 us for
    /// one row, 136 us for four). A model that is not batched keeps the arena: with separate past and present tensors
    /// (stories260K-onnx) every step allocates new ones, and one request decodes 2-3% slower without it. So does a model
    /// that uses every processor per operator, whose reuse of large buffers matters for long prompts.
    /// </summary>
    /// <param name="threads">The chosen threads per operator.</param>
    /// <param name="processorCount">The processors this process may run on.</param>
    /// <param name="batchWorkers">The batch workers that will step concurrently (0 when requests are not batched).</param>
    /// <param name="folderSetsArena">Whether the model's genai_config.json sets <c>enable_cpu_mem_arena</c>.</param>
    /// <param name="provider">The execution provider's name.</param>
    public static bool TurnsOffCpuArena(IntraOpThreadChoice threads, int processorCount, int batchWorkers, bool folderSetsArena, string provider) =>
        provider == "cpu" && !folderSetsArena && batchWorkers > 1 && threads.Threads is int count && count < processorCount;

    /// <summary>The most Engines a runner creates on its own (without <see cref="OnnxModelRunnerOptions.MaxConcurrentRequests"/>).</summary>
    public const int MaxDefaultEngines = 4;

    /// <summary>Whether requests to a model with this attention operator will be batched through GenAI's Engine.</summary>
    public static bool WillBatch(OnnxModelRunnerOptions options, string? attentionOperator) =>
        options.EnableBatching && options.SamplingMode != SamplingMode.Infera && attentionOperator == "GroupQueryAttention";

    /// <summary>
    /// Chooses the thread count and the number of concurrent requests together: with
    /// <see cref="OnnxModelRunnerOptions.MaxConcurrentRequests"/> set, the Engines it needs share the processors; without it,
    /// a batched model gets as many 4-row Engines as its thread count leaves processors for (at most
    /// <see cref="MaxDefaultEngines"/>): one per processor for a small model, one for a large model using every processor.
    /// Requests that are not batched get 4 slots.
    /// </summary>
    /// <param name="options">The runner's options.</param>
    /// <param name="configured">The model folder's <c>intra_op_num_threads</c>, or <see langword="null"/>.</param>
    /// <param name="weightBytes">The size of the model's ONNX files.</param>
    /// <param name="processorCount">The processors this process may run on.</param>
    /// <param name="batched">Whether requests will be batched.</param>
    /// <param name="rowsPerWorker">The rows one batch worker holds (an Engine: <see cref="EngineRows"/>).</param>
    public static (IntraOpThreadChoice Threads, int MaxConcurrentRequests) Choose(OnnxModelRunnerOptions options, int? configured, long weightBytes, int processorCount, bool batched, int rowsPerWorker = EngineRows)
    {
        if (!batched)
        {
            return (Choose(options.IntraOpThreads, configured, weightBytes, processorCount, 0), options.MaxConcurrentRequests ?? DefaultConcurrentRequests);
        }

        if (options.MaxConcurrentRequests is int max)
        {
            var engines = Math.Max(1, (max + rowsPerWorker - 1) / rowsPerWorker);
            return (Choose(options.IntraOpThreads, configured, weightBytes, processorCount, engines), max);
        }

        var threads = Choose(options.IntraOpThreads, configured, weightBytes, processorCount, 1);
        var count = Math.Clamp(processorCount / Math.Max(1, threads.Threads ?? processorCount), 1, MaxDefaultEngines);
        return (threads, count * EngineRows);
    }

    /// <summary>The concurrent requests of a runner that does not batch, unless the app says otherwise.</summary>
    public const int DefaultConcurrentRequests = 4;
}

/// <summary>A chosen thread count, whether the runner sets it on the model's configuration, and why.</summary>
/// <param name="Threads">The threads per operator, or <see langword="null"/> when ONNX Runtime chooses.</param>
/// <param name="Overlay">Whether the runner writes the count into the model's session options.</param>
/// <param name="Reason">Why, in words.</param>
internal readonly record struct IntraOpThreadChoice(int? Threads, bool Overlay, string Reason);
