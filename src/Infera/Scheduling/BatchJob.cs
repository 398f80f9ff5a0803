using System.Threading.Channels;

namespace Infera;

/// <summary>One request handed to the <see cref="BatchScheduler"/>: what to generate, and the channel its tokens come back through.</summary>
/// <remarks>
/// The reader side (the runner's iterator) reads <see cref="Reader"/> and calls <see cref="Cancel"/> when it stops early.
/// Everything native about the job (its <c>OgaRequest</c>, its turn) is touched only by the worker that owns it, on
/// that worker's Engine owner thread.
/// </remarks>
internal sealed class BatchJob
{
    private readonly Channel<BatchOutput> _channel = Channel.CreateUnbounded<BatchOutput>(new UnboundedChannelOptions
    {
        SingleReader = true,
        SingleWriter = true,
        AllowSynchronousContinuations = false,
    });

    private int _cancelRequested;

    public BatchJob(int[] promptTokens, int maxNewTokens, GenerationOptions options)
    {
        PromptTokens = promptTokens;
        MaxNewTokens = maxNewTokens;
        Options = options;
    }

    public int[] PromptTokens { get; }

    public int MaxNewTokens { get; }

    public GenerationOptions Options { get; }

    /// <summary>Gets the lone request this job continues in a batch (<see cref="BatchScheduler.SubmitMoved"/>), if any.</summary>
    public LoneRequest? MovedFrom { get; init; }

    public ChannelReader<BatchOutput> Reader => _channel.Reader;

    internal ChannelWriter<BatchOutput> Writer => _channel.Writer;

    public bool IsCancelRequested => Volatile.Read(ref _cancelRequested) != 0;

    /// <summary>Gets the Engine step at which the reader asked to stop, or -1.</summary>
    public long CancelRequestedAtStep { get; private set; } = -1;

    /// <summary>Gets the Engine step after which the job's native request was closed, or -1 while it is open.</summary>
    public long ClosedAtStep { get; internal set; } = -1;

    /// <summary>Gets the number of tokens generated so far (written by the owning worker).</summary>
    internal int GeneratedTokens { get; set; }

    /// <summary>Gets or sets the worker that runs the job, once one took it.</summary>
    internal IBatchWorker? Worker { get; set; }

    internal RequestHandle? Request { get; set; }

    internal ulong TurnId { get; set; }

    /// <summary>Asks the owning worker to cancel and close the request before its next Engine step. Idempotent; safe from any thread.</summary>
    public void Cancel()
    {
        if (Interlocked.Exchange(ref _cancelRequested, 1) == 0)
        {
            CancelRequestedAtStep = Worker?.Steps ?? -1;
        }
    }
}
