namespace Infera;

/// <summary>
/// One ONNX Runtime GenAI Engine and the dedicated thread that owns it. Every native Engine call (create, run,
/// begin/cancel turn, close, destroy) happens on that thread, as <c>ort_genai_c.h</c> requires.
/// </summary>
/// <remarks>
/// The Engine in ONNX Runtime GenAI 0.18 on the CPU is static: it admits a batch of up to four requests at once and
/// admits the next batch only when every row of the current one has finished. So a worker takes a new batch from the
/// scheduler's queue only when it is idle, and leaves queued requests to another worker otherwise.
/// </remarks>
internal sealed class EngineWorker : IBatchWorker
{
    private const int EventCapacity = 64;

    private readonly BatchScheduler _scheduler;
    private readonly IntPtr _modelHandle;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<BatchJob> _active = [];
    private readonly Dictionary<IntPtr, BatchJob> _byRequest = [];
    private readonly List<BatchJob> _taken = [];
    private long _steps;
    private int _activeRows;
    private int _residentTokens;

    public EngineWorker(BatchScheduler scheduler, IntPtr modelHandle, int index)
    {
        _scheduler = scheduler;
        _modelHandle = modelHandle;
        _thread = new Thread(Run)
        {
            IsBackground = true,
            Name = "Infera Engine " + index,
        };
    }

    /// <summary>Gets the rows (requests) one batch of this Engine holds; known once <see cref="StartAsync"/> completed.</summary>
    public int BatchCapacity { get; private set; }

    /// <summary>Gets the number of Engine steps run so far.</summary>
    public long Steps => Volatile.Read(ref _steps);

    /// <summary>Gets the number of requests in the current batch.</summary>
    public int ActiveRows => Volatile.Read(ref _activeRows);

    /// <summary>Gets the tokens (prompt and generated) held in the current batch's key-value cache.</summary>
    public int ResidentTokens => Volatile.Read(ref _residentTokens);

    /// <summary>Starts the owner thread and creates the Engine on it; fails when the Engine cannot be created.</summary>
    public Task StartAsync()
    {
        _thread.Start();
        return _ready.Task;
    }

    /// <summary>Waits until the owner thread has ended (after the scheduler was stopped).</summary>
    public Task WhenStopped => _stopped.Task;

    public void Dispose() => _thread.Join();

    private void Run()
    {
        EngineHandle? engine = null;
        EngineEventBufferHandle? buffer = null;
        try
        {
            NativeMethods.Check(NativeMethods.OgaCreateEngine(_modelHandle, out engine));
            NativeMethods.Check(NativeMethods.OgaEngineGetCapabilities(engine, out var capabilities));
            try
            {
                BatchCapacity = Math.Max(1, (int)NativeMethods.OgaEngineCapabilitiesGetConfiguredMaxBatchSize(capabilities));
            }
            finally
            {
                NativeMethods.OgaDestroyEngineCapabilities(capabilities);
            }

            NativeMethods.Check(NativeMethods.OgaCreateEngineEventBuffer(engine, EventCapacity, out buffer));
        }
        catch (Exception ex)
        {
            buffer?.Dispose();
            engine?.Dispose();
            _ready.TrySetException(ex);
            _stopped.TrySetResult();
            return;
        }

        _ready.TrySetResult();
        try
        {
            Loop(engine, buffer);
        }
        finally
        {
            FailAll(new ObjectDisposedException(nameof(OnnxModelRunner), "The model runner was disposed during generation."));

            // The buffer is bound to the Engine: release it first, both on this owner thread.
            buffer.Dispose();
            engine.Dispose();
            _stopped.TrySetResult();
        }
    }

    private void Loop(EngineHandle engine, EngineEventBufferHandle buffer)
    {
        while (true)
        {
            if (_active.Count == 0)
            {
                _taken.Clear();
                if (!_scheduler.TakeBatch(BatchCapacity, _taken))
                {
                    return;
                }

                foreach (var job in _taken)
                {
                    Begin(engine, job);
                }

                PublishCounters();
            }

            CloseCancelled();
            if (_active.Count == 0)
            {
                continue;
            }

            try
            {
                NativeMethods.Check(NativeMethods.OgaEngineRun(engine, buffer));
            }
            catch (InferaException ex)
            {
                FailAll(ex);
                continue;
            }

            var step = Interlocked.Increment(ref _steps);
            Dispatch(buffer, step);
            PublishCounters();

            // No yield to the threads that deliver these tokens: when every core is busy they take the tokens of several
            // steps at once, and a stream sends them in one write (docs/benchmarks/serving.md).
        }
    }

    private unsafe void Begin(EngineHandle engine, BatchJob job)
    {
        job.Worker = this;
        if (job.IsCancelRequested)
        {
            Complete(job, new OperationCanceledException("Generation was cancelled."));
            return;
        }

        RequestHandle? request = null;
        try
        {
            RequestOptionsHandle requestOptions;
            NativeMethods.Check(NativeMethods.OgaCreateRequestOptions(out requestOptions));
            using (requestOptions)
            {
                NativeMethods.Check(NativeMethods.OgaRequestOptionsSetMaxSessionTokens(requestOptions, (ulong)(job.PromptTokens.Length + job.MaxNewTokens)));
                NativeMethods.Check(NativeMethods.OgaEngineCreateRequest(engine, requestOptions, out request));
            }

            TurnOptionsHandle turnOptions;
            NativeMethods.Check(NativeMethods.OgaRequestCreateTurnOptions(request, out turnOptions));
            using (turnOptions)
            {
                ConfigureTurn(turnOptions, job);
                ulong turnId;
                fixed (int* ids = job.PromptTokens)
                {
                    NativeMethods.Check(NativeMethods.OgaRequestBeginTurn(request, turnOptions, ids, (ulong)job.PromptTokens.Length, out turnId));
                }

                job.TurnId = turnId;
            }

            job.Request = request;
            _byRequest[request.DangerousGetHandle()] = job;
            _active.Add(job);
        }
        catch (InferaException ex)
        {
            request?.Dispose();
            Complete(job, ex);
        }
    }

    private static void ConfigureTurn(TurnOptionsHandle turn, BatchJob job)
    {
        NativeMethods.Check(NativeMethods.OgaTurnOptionsSetMaxGeneratedTokens(turn, (ulong)job.MaxNewTokens));
        var options = job.Options;
        if (options.IsGreedy)
        {
            NativeMethods.Check(NativeMethods.OgaTurnOptionsSetDoSample(turn, false));
            return;
        }

        if (options.Temperature is null && options.TopP is null && options.TopK is null && options.RepetitionPenalty is null)
        {
            // Nothing asked for: the model's own search defaults (genai_config.json "search") apply, as on the generator path.
            return;
        }

        // Set every option the request implies: the model's defaults (such as top_k = 1) must not leak in.
        NativeMethods.Check(NativeMethods.OgaTurnOptionsSetDoSample(turn, true));
        NativeMethods.Check(NativeMethods.OgaTurnOptionsSetTemperature(turn, options.Temperature ?? 1f));
        NativeMethods.Check(NativeMethods.OgaTurnOptionsSetTopK(turn, options.TopK ?? 0));
        NativeMethods.Check(NativeMethods.OgaTurnOptionsSetTopP(turn, options.TopP ?? 1f));
        NativeMethods.Check(NativeMethods.OgaTurnOptionsSetRepetitionPenalty(turn, options.RepetitionPenalty ?? 1f));
    }

    private void CloseCancelled()
    {
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            var job = _active[i];
            if (job.IsCancelRequested)
            {
                _active.RemoveAt(i);
                Close(job, cancel: true);
                Complete(job, new OperationCanceledException("Generation was cancelled."));
            }
        }
    }

    private void Dispatch(EngineEventBufferHandle buffer, long step)
    {
        var count = (int)NativeMethods.OgaEngineEventBufferGetCount(buffer);
        for (var i = 0; i < count; i++)
        {
            var engineEvent = NativeMethods.OgaEngineEventBufferGet(buffer, (nuint)i);
            NativeMethods.Check(NativeMethods.OgaEngineEventGetFlags(engineEvent, out var flags));
            NativeMethods.Check(NativeMethods.OgaEngineEventGetRequest(engineEvent, out var requestPointer));
            if (!_byRequest.TryGetValue(requestPointer, out var job))
            {
                // An event for a request closed before this step (its events are discarded by Close): nothing to do.
                continue;
            }

            var token = -1;
            if ((flags & NativeMethods.EventFlagToken) != 0)
            {
                NativeMethods.Check(NativeMethods.OgaEngineEventGetToken(engineEvent, out token));
                job.GeneratedTokens++;
            }

            uint finish = NativeMethods.FinishReasonNone;
            if ((flags & (NativeMethods.EventFlagTurnFinished | NativeMethods.EventFlagFailed)) != 0)
            {
                NativeMethods.Check(NativeMethods.OgaEngineEventGetFinishReason(engineEvent, out finish));
                if (finish == NativeMethods.FinishReasonNone)
                {
                    finish = NativeMethods.FinishReasonFailed;
                }
            }

            if (token >= 0 || finish != NativeMethods.FinishReasonNone)
            {
                job.Writer.TryWrite(new BatchOutput(token, finish, step));
            }

            if (finish != NativeMethods.FinishReasonNone)
            {
                _active.Remove(job);
                Close(job, cancel: false);
                if (finish == NativeMethods.FinishReasonFailed)
                {
                    NativeMethods.Check(NativeMethods.OgaEngineEventGetErrorCode(engineEvent, out var errorCode));
                    Complete(job, new InferaException($"ONNX Runtime GenAI's Engine failed the request (error code {errorCode})."));
                }
                else
                {
                    Complete(job, null);
                }
            }
        }
    }

    private void Close(BatchJob job, bool cancel)
    {
        if (job.Request is not { } request)
        {
            return;
        }

        _byRequest.Remove(request.DangerousGetHandle());
        if (cancel)
        {
            // A failure to cancel is not the caller's problem: Close below removes the request from scheduling anyway.
            var result = NativeMethods.OgaRequestCancelTurn(request, job.TurnId, out _);
            if (result != IntPtr.Zero)
            {
                NativeMethods.OgaDestroyResult(result);
            }
        }

        var closed = NativeMethods.OgaRequestClose(request);
        if (closed != IntPtr.Zero)
        {
            NativeMethods.OgaDestroyResult(closed);
        }

        request.Dispose();
        job.Request = null;
        job.ClosedAtStep = Steps;
    }

    private void Complete(BatchJob job, Exception? error)
    {
        job.Writer.TryComplete(error);
        _scheduler.OnCompleted(job);
    }

    private void FailAll(Exception error)
    {
        foreach (var job in _active)
        {
            Close(job, cancel: true);
            Complete(job, error);
        }

        _active.Clear();
        PublishCounters();
    }

    private void PublishCounters()
    {
        var tokens = 0;
        foreach (var job in _active)
        {
            tokens += job.PromptTokens.Length + job.GeneratedTokens;
        }

        Volatile.Write(ref _activeRows, _active.Count);
        Volatile.Write(ref _residentTokens, tokens);
    }
}
