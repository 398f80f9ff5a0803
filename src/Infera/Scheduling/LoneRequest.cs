namespace Infera;

/// <summary>
/// A request a batch could take that runs on a generator of its own (it found the runner idle, and a generator run
/// alone keeps its state for the prefix cache). While it runs, a batch worker that starts a batch with free rows may ask
/// it to move into that batch; the request's token loop answers at its next step.
/// </summary>
/// <remarks>
/// <para>
/// Why: the first request of a burst finds the runner idle and starts alone; the requests that follow a moment later
/// fill the batch workers. On a machine with fewer processors than generators then stepping (two processors: the lone
/// generator and two batches), the three share the processors and the lone row costs as much per step as a batch of
/// four. Moved into a batch's free row, it costs a row's share instead (docs/benchmarks/serving.md).
/// </para>
/// <para>
/// The hand-over is race-free: the worker asks (<see cref="TryAsk"/>); the token loop, between two steps, either
/// commits (<see cref="TryCommit"/>, then submits the rest of the request as a batch job whose prompt is the prompt and
/// every token generated so far) or ends first (<see cref="End"/>); a worker that stops waiting withdraws the ask
/// (<see cref="TryWithdraw"/>) unless the loop has committed, in which case the job is on its way.
/// </para>
/// </remarks>
internal sealed class LoneRequest
{
    private const int Running = 0;
    private const int Asked = 1;
    private const int Moving = 2;
    private const int Ended = 3;

    private int _state;
    private int _generated;
    private int _arrived;

    public LoneRequest(GenerationPlan plan)
    {
        Options = plan.Options;
        PromptLength = plan.PromptTokens.Length;
        MaxNewTokens = plan.MaxNewTokens;
    }

    /// <summary>
    /// Whether lone requests of a model with model files of <paramref name="weightBytes"/> may move into batches: small
    /// models only (<see cref="IntraOpThreadPolicy.SmallModelBytes"/>). A batch pads every row to its longest prompt, so
    /// the tokens a moved request computes again delay every row's first token; on stories260K-gqa a 50-token prompt of
    /// 4 rows takes about a millisecond, on a 0.5B model about half a second (prompts at 400-460 tokens/s on two
    /// processors, docs/benchmarks/model-builder.md), more than the shared steps save a request that arrives.
    /// </summary>
    public static bool MovesFor(long weightBytes) => weightBytes < IntraOpThreadPolicy.SmallModelBytes;

    /// <summary>Gets the request's generation options (a batch holds rows of the same search only).</summary>
    public GenerationOptions Options { get; }

    /// <summary>Gets the prompt's length in tokens.</summary>
    public int PromptLength { get; }

    /// <summary>Gets the most tokens the request may generate.</summary>
    public int MaxNewTokens { get; }

    /// <summary>Gets the tokens generated so far.</summary>
    public int Generated => Volatile.Read(ref _generated);

    /// <summary>Gets a value indicating whether a worker has asked the request to move (the loop's check between steps).</summary>
    public bool IsAsked => Volatile.Read(ref _state) == Asked;

    /// <summary>
    /// Whether moving pays: the batch computes the prompt and the generated tokens again, which costs less than the
    /// batch saves on the tokens left only when those are at least a quarter of them
    /// (<see cref="PrefixCacheFactory.PrefixToNewTokensForGenerator"/>, the same trade as a kept prefix against a batch).
    /// </summary>
    public bool WorthMoving
    {
        get
        {
            var generated = Generated;
            var left = MaxNewTokens - generated;
            return left >= 2 && (long)(PromptLength + generated) < (long)PrefixCacheFactory.PrefixToNewTokensForGenerator * left;
        }
    }

    /// <summary>Counts one generated token (called by the token loop only).</summary>
    public void OnToken() => Volatile.Write(ref _generated, _generated + 1);

    /// <summary>Asks the request to move; <see langword="false"/> when it was asked already, is moving or has ended.</summary>
    public bool TryAsk() => Interlocked.CompareExchange(ref _state, Asked, Running) == Running;

    /// <summary>Takes back an ask the loop has not answered; <see langword="false"/> when the loop has committed to moving or ended.</summary>
    public bool TryWithdraw() => Interlocked.CompareExchange(ref _state, Running, Asked) == Asked;

    /// <summary>Gets a value indicating whether the loop has committed to moving (its batch job is submitted or about to be).</summary>
    public bool IsMoving => Volatile.Read(ref _state) == Moving;

    /// <summary>
    /// Gets a value indicating whether a worker may still receive this request's job: asked and not answered yet, or
    /// committed and its job not yet taken from the queue by any worker.
    /// </summary>
    public bool IsComing => Volatile.Read(ref _state) switch
    {
        Asked => true,
        Moving => Volatile.Read(ref _arrived) == 0,
        _ => false,
    };

    /// <summary>Marks the moved job taken from the queue by a worker.</summary>
    public void MarkArrived() => Volatile.Write(ref _arrived, 1);

    /// <summary>Commits the loop to moving; <see langword="false"/> when the ask was withdrawn in the meantime.</summary>
    public bool TryCommit() => Interlocked.CompareExchange(ref _state, Moving, Asked) == Asked;

    /// <summary>Marks the request ended on its own generator (finished, cancelled or failed), asked or not; a committed move stays.</summary>
    public void End()
    {
        if (Interlocked.CompareExchange(ref _state, Ended, Running) != Running)
        {
            Interlocked.CompareExchange(ref _state, Ended, Asked);
        }
    }
}
