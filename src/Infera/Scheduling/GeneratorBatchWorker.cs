using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>
/// A thread that runs batches of queued requests on plain ONNX Runtime GenAI generators: one generator with
/// <c>batch_size</c> rows per batch, the shorter prompts right-padded with the model's pad token (which GenAI masks),
/// every row's new token streamed to its request after each step.
/// </summary>
/// <remarks>
/// <para>
/// The rows of one generator share its search options, so a batch holds only requests whose options are the same
/// (greedy, or the same unseeded temperature, top-k, top-p and repetition penalty); requests taken together that differ
/// run as separate batches, one after another. A prompt that contains the pad token runs in a batch of its own, where
/// nothing is padded. The padded prompt length plus the largest token limit of a batch must fit the context; requests
/// that would not fit with the others start another batch.
/// </para>
/// <para>
/// A row ends at an end-of-sequence or stop token, at its own token limit, or when its reader cancels; the generator is
/// dropped as soon as every row has ended (the rows that ended earlier are computed until then, and not reported).
/// </para>
/// </remarks>
internal sealed class GeneratorBatchWorker : IBatchWorker
{
    private readonly BatchScheduler _scheduler;
    private readonly Model _model;
    private readonly GeneratorBatchSettings _settings;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<BatchJob> _taken = [];
    private readonly List<Row> _rows = [];
    private long _steps;
    private int _activeRows;
    private int _residentTokens;

    public GeneratorBatchWorker(BatchScheduler scheduler, Model model, GeneratorBatchSettings settings, int index)
    {
        _scheduler = scheduler;
        _model = model;
        _settings = settings;
        BatchCapacity = Math.Max(1, settings.Rows);
        _thread = new Thread(Run)
        {
            IsBackground = true,
            Name = "Infera batch generator " + index,
        };
    }

    /// <inheritdoc />
    public int BatchCapacity { get; }

    /// <inheritdoc />
    public long Steps => Volatile.Read(ref _steps);

    /// <inheritdoc />
    public int ActiveRows => Volatile.Read(ref _activeRows);

    /// <inheritdoc />
    public int ResidentTokens => Volatile.Read(ref _residentTokens);

    /// <inheritdoc />
    public Task WhenStopped => _stopped.Task;

    /// <inheritdoc />
    public Task StartAsync()
    {
        _thread.Start();
        _ready.TrySetResult();
        return _ready.Task;
    }

    public void Dispose() => _thread.Join();

    /// <summary>Whether two requests may share one generator: the same search, as the generator path would configure it.</summary>
    internal static bool SameSearch(GenerationOptions a, GenerationOptions b)
    {
        if (a.IsGreedy || b.IsGreedy)
        {
            return a.IsGreedy && b.IsGreedy;
        }

        return a.Temperature == b.Temperature && a.TopK == b.TopK && a.TopP == b.TopP && a.RepetitionPenalty == b.RepetitionPenalty && a.Seed == b.Seed;
    }

    /// <summary>
    /// Splits jobs taken together into batches, in arrival order: each batch holds jobs with the same search whose padded
    /// prompt length plus largest token limit fits the context, at most <paramref name="rows"/>; a prompt holding the
    /// pad token runs alone.
    /// </summary>
    internal static List<List<BatchJob>> Group(IReadOnlyList<BatchJob> jobs, int rows, int padTokenId, int contextLength)
    {
        var batches = new List<List<BatchJob>>();
        foreach (var job in jobs)
        {
            List<BatchJob>? into = null;
            if (Array.IndexOf(job.PromptTokens, padTokenId) < 0)
            {
                foreach (var batch in batches)
                {
                    var first = batch[0];
                    if (batch.Count < rows
                        && Array.IndexOf(first.PromptTokens, padTokenId) < 0
                        && SameSearch(first.Options, job.Options)
                        && Math.Max(batch.Max(j => j.PromptTokens.Length), job.PromptTokens.Length) + Math.Max(batch.Max(j => j.MaxNewTokens), job.MaxNewTokens) <= contextLength)
                    {
                        into = batch;
                        break;
                    }
                }
            }

            if (into is null)
            {
                batches.Add([job]);
            }
            else
            {
                into.Add(job);
            }
        }

        return batches;
    }

    private void Run()
    {
        try
        {
            while (true)
            {
                _taken.Clear();
                if (!_scheduler.TakeBatch(BatchCapacity, _taken))
                {
                    return;
                }

                foreach (var batch in Group(_taken, BatchCapacity, _settings.PadTokenId, _settings.ContextLength))
                {
                    RunBatch(batch);
                }
            }
        }
        finally
        {
            foreach (var job in _taken)
            {
                // Jobs taken but not begun when the scheduler stopped (their batch never ran).
                if (job.Worker is null)
                {
                    Complete(job, Disposed());
                }
            }

            FailAll(Disposed());
            _stopped.TrySetResult();
        }
    }

    private void RunBatch(List<BatchJob> batch)
    {
        _rows.Clear();
        foreach (var job in batch)
        {
            job.Worker = this;
            _rows.Add(new Row(job));
        }

        if (_scheduler.IsStopping)
        {
            FailAll(Disposed());
            return;
        }

        CloseCancelled();
        if (ActiveCount() == 0)
        {
            _rows.Clear();
            return;
        }

        try
        {
            var padded = batch.Max(j => j.PromptTokens.Length);
            using var parameters = new GeneratorParams(_model);
            parameters.SetSearchOption("batch_size", batch.Count);
            parameters.SetSearchOption("max_length", padded + batch.Max(j => j.MaxNewTokens));
            GenerationSearch.Apply(parameters, batch[0].Options, _settings.VocabularySize);
            using var generator = new Generator(_model, parameters);
            var input = new int[batch.Count * padded];
            Array.Fill(input, _settings.PadTokenId);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].PromptTokens.CopyTo(input, i * padded);
            }

            generator.AppendTokens(input);
            PublishCounters();
            while (true)
            {
                if (_scheduler.IsStopping)
                {
                    FailAll(Disposed());
                    return;
                }

                CloseCancelled();
                if (ActiveCount() == 0)
                {
                    break;
                }

                generator.GenerateNextToken();
                var step = Interlocked.Increment(ref _steps);
                Dispatch(generator.GetNextTokens(), step);
                PublishCounters();

                // No yield to the threads that deliver these tokens: when every core is busy they take the tokens of
                // several steps at once, and a stream sends them in one write (docs/benchmarks/serving.md).
            }
        }
        catch (OnnxRuntimeGenAIException ex)
        {
            FailAll(new InferaException($"ONNX Runtime GenAI failed during generation: {ex.Message}", ex));
        }
        catch (Exception ex)
        {
            // The batch's requests get the failure; the worker's thread goes on with the next batch.
            FailAll(ex);
        }

        _rows.Clear();
        PublishCounters();
    }

    private void Dispatch(ReadOnlySpan<int> tokens, long step)
    {
        for (var i = 0; i < _rows.Count; i++)
        {
            var row = _rows[i];
            if (row.Done)
            {
                continue;
            }

            var job = row.Job;
            var token = tokens[i];
            job.GeneratedTokens++;
            var isEos = _settings.EosTokenIds.Contains(token);
            var finished = isEos || job.Options.StopTokenIds?.Contains(token) == true || job.GeneratedTokens >= job.MaxNewTokens;
            var finish = !finished ? NativeMethods.FinishReasonNone : isEos ? NativeMethods.FinishReasonEos : NativeMethods.FinishReasonMaxGeneratedTokens;
            job.Writer.TryWrite(new BatchOutput(token, finish, step));
            if (finished)
            {
                row.Done = true;
                job.ClosedAtStep = step;
                Complete(job, null);
            }
        }
    }

    private void CloseCancelled()
    {
        foreach (var row in _rows)
        {
            if (!row.Done && row.Job.IsCancelRequested)
            {
                row.Done = true;
                row.Job.ClosedAtStep = Steps;
                Complete(row.Job, new OperationCanceledException("Generation was cancelled."));
            }
        }
    }

    private int ActiveCount()
    {
        var count = 0;
        foreach (var row in _rows)
        {
            if (!row.Done)
            {
                count++;
            }
        }

        return count;
    }

    private void Complete(BatchJob job, Exception? error)
    {
        job.Writer.TryComplete(error);
        _scheduler.OnCompleted(job);
    }

    private void FailAll(Exception error)
    {
        foreach (var row in _rows)
        {
            if (!row.Done)
            {
                row.Done = true;
                row.Job.ClosedAtStep = Steps;
                Complete(row.Job, error);
            }
        }

        _rows.Clear();
        PublishCounters();
    }

    private void PublishCounters()
    {
        var rows = 0;
        var tokens = 0;
        foreach (var row in _rows)
        {
            if (!row.Done)
            {
                rows++;
                tokens += row.Job.PromptTokens.Length + row.Job.GeneratedTokens;
            }
        }

        Volatile.Write(ref _activeRows, rows);
        Volatile.Write(ref _residentTokens, tokens);
    }

    private static ObjectDisposedException Disposed() => new(nameof(OnnxModelRunner), "The model runner was disposed during generation.");

    /// <summary>One request's row in the running batch.</summary>
    private sealed class Row(BatchJob job)
    {
        public BatchJob Job { get; } = job;

        public bool Done { get; set; }
    }
}
