using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text;

namespace Infera;

/// <summary>The instruments behind <see cref="InferaTelemetry"/>, and the wrapper that measures one generation.</summary>
internal static class GenerationInstrumentation
{
    public const string ProviderName = "infera";
    public const string DefaultOperation = "text_completion";

    private static readonly ConcurrentDictionary<OnnxModelRunner, byte> Runners = new();

    public static readonly ActivitySource ActivitySource = new(InferaTelemetry.SourceName, typeof(GenerationInstrumentation).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(InferaTelemetry.SourceName, typeof(GenerationInstrumentation).Assembly.GetName().Version?.ToString());

    private static readonly Histogram<double> RequestDuration = Meter.CreateHistogram(
        "gen_ai.server.request.duration",
        unit: "s",
        description: "Time from the request reaching the model until its last token.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] });

    private static readonly Histogram<double> TimeToFirstToken = Meter.CreateHistogram(
        "gen_ai.server.time_to_first_token",
        unit: "s",
        description: "Time until the first output token, queueing and prompt processing included.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0] });

    private static readonly Histogram<double> TimePerOutputToken = Meter.CreateHistogram(
        "gen_ai.server.time_per_output_token",
        unit: "s",
        description: "Time per output token after the first (decode).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5] });

    private static readonly Histogram<long> TokenUsage = Meter.CreateHistogram<long>(
        "gen_ai.server.token.usage",
        unit: "{token}",
        description: "Input and output tokens per request.",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576] });

    static GenerationInstrumentation()
    {
        Meter.CreateObservableGauge("infera.requests.queued", () => Observe(r => r.QueuedRequests), unit: "{request}", description: "Requests waiting for a slot or a batch.");
        Meter.CreateObservableGauge("infera.requests.running", () => Observe(r => r.RunningRequests), unit: "{request}", description: "Requests generating now.");
        Meter.CreateObservableGauge("infera.batch.size", () => Observe(r => r.BatchSize), unit: "{request}", description: "Requests advanced by the current batch steps (batched mode) or generators running (per-request mode).");
        Meter.CreateObservableGauge("infera.kv_cache.usage", () => ObserveDouble(r => r.KeyValueCacheUsage), unit: "1", description: "Fraction of the batches' key-value cache capacity holding tokens (batched mode; 0 otherwise).");
        Meter.CreateObservableGauge("infera.scheduling.mode", ObserveMode, unit: null, description: "1 for the scheduling mode in use, tagged infera.scheduling.mode = batched or per_request and infera.batching = generator, engine or none.");
        Meter.CreateObservableCounter("infera.engine.steps", () => Observe(r => r.EngineSteps), unit: "{step}", description: "Batch steps (one model run over a batch) since the model loaded.");
        Meter.CreateObservableCounter("infera.batch.moved_requests", () => Observe(r => r.MovedIntoBatch), unit: "{request}", description: "Requests that began on a generator of their own and moved into a batch when a burst filled the batch workers.");
        Meter.CreateObservableCounter("infera.prefix_cache.hits", () => Observe(r => r.PrefixCache?.Hits ?? 0), unit: "{request}", description: "Requests that continued a kept sequence from the prefix cache.");
        Meter.CreateObservableCounter("infera.prefix_cache.misses", () => Observe(r => r.PrefixCache?.Misses ?? 0), unit: "{request}", description: "Cacheable requests that found no kept sequence to continue.");
        Meter.CreateObservableCounter("infera.prefix_cache.hit_tokens", () => Observe(r => r.PrefixCache?.HitTokens ?? 0), unit: "{token}", description: "Prompt tokens taken from the prefix cache instead of computed.");
        Meter.CreateObservableCounter("infera.prefix_cache.evictions", () => Observe(r => r.PrefixCache?.Evictions ?? 0), unit: "{sequence}", description: "Kept sequences dropped to stay within the prefix cache's budget.");
        Meter.CreateObservableGauge("infera.prefix_cache.usage", () => Observe(r => r.PrefixCache?.Bytes ?? 0), unit: "By", description: "Bytes of key/value state the prefix cache holds (estimated from the model's layout).");
        Meter.CreateObservableGauge("infera.prefix_cache.sequences", () => Observe(r => r.PrefixCache?.Count ?? 0), unit: "{sequence}", description: "Idle sequences kept by the prefix cache.");
    }

    /// <summary>Gets a value indicating whether a listener records a generation's span or any of its measurements.</summary>
    public static bool IsObserved =>
        ActivitySource.HasListeners() || RequestDuration.Enabled || TimeToFirstToken.Enabled || TimePerOutputToken.Enabled || TokenUsage.Enabled;

    public static void Register(OnnxModelRunner runner) => Runners.TryAdd(runner, 0);

    public static void Unregister(OnnxModelRunner runner) => Runners.TryRemove(runner, out _);

    public static string ModeName(SchedulingMode mode) => mode == SchedulingMode.Batched ? "batched" : "per_request";

    /// <summary>The name of what batches run on, as the <c>infera.batching</c> tag says it: generator, engine, or none.</summary>
    public static string BatchingName(BatchingKind? kind) => kind switch
    {
        BatchingKind.Generator => "generator",
        BatchingKind.Engine => "engine",
        _ => "none",
    };

    /// <summary>Measures a generation: its span, duration, time to first token, time per output token and token usage.</summary>
    public static async IAsyncEnumerable<TokenUpdate> Instrument(
        IAsyncEnumerable<TokenUpdate> source,
        OnnxModelRunner runner,
        GenerationRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var model = runner.Metadata.ModelId;
        var operation = request.Options.AdditionalProperties?.TryGetValue(InferaTelemetry.OperationNameKey, out var name) == true && name is string s && s.Length > 0
            ? s
            : DefaultOperation;
        var tags = new TagList
        {
            { "gen_ai.operation.name", operation },
            { "gen_ai.request.model", model },
            { "gen_ai.provider.name", ProviderName },
        };

        using var activity = ActivitySource.StartActivity(operation + " " + model, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("gen_ai.operation.name", operation);
            activity.SetTag("gen_ai.request.model", model);
            activity.SetTag("gen_ai.provider.name", ProviderName);
            activity.SetTag("gen_ai.request.max_tokens", request.Options.MaxNewTokens);
            activity.SetTag("gen_ai.request.temperature", request.Options.Temperature);
            activity.SetTag("gen_ai.request.top_p", request.Options.TopP);
            activity.SetTag("gen_ai.request.top_k", request.Options.TopK);
            activity.SetTag("gen_ai.request.seed", request.Options.Seed);
            activity.SetTag("infera.scheduling.mode", ModeName(runner.SchedulingMode));
            if (InferaTelemetry.EnableSensitiveData && request.Prompt is { } prompt)
            {
                activity.AddEvent(new ActivityEvent("gen_ai.content.prompt", tags: new ActivityTagsCollection { ["gen_ai.prompt"] = prompt }));
            }
        }

        var completion = activity is not null && InferaTelemetry.EnableSensitiveData ? new StringBuilder() : null;
        var started = Stopwatch.GetTimestamp();
        long firstTokenAt = 0;
        var outputTokens = 0;
        var promptTokens = 0;
        GenerationFinishReason? finish = null;
        string? errorType = null;
        var enumerator = source.GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (Exception ex)
                {
                    errorType = ex is OperationCanceledException ? "cancelled" : ex.GetType().FullName;
                    activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                    throw;
                }

                var update = enumerator.Current;
                if (outputTokens == 0)
                {
                    firstTokenAt = Stopwatch.GetTimestamp();
                    TimeToFirstToken.Record(Stopwatch.GetElapsedTime(started, firstTokenAt).TotalSeconds, tags);
                }

                outputTokens++;
                promptTokens = update.PromptTokenCount;
                finish = update.FinishReason ?? finish;
                completion?.Append(update.Text);
                yield return update;
            }
        }
        finally
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
            var ended = Stopwatch.GetTimestamp();
            var recordTags = tags;
            if (errorType is not null)
            {
                recordTags.Add("error.type", errorType);
            }

            RequestDuration.Record(Stopwatch.GetElapsedTime(started, ended).TotalSeconds, recordTags);
            if (outputTokens > 1)
            {
                TimePerOutputToken.Record(Stopwatch.GetElapsedTime(firstTokenAt, ended).TotalSeconds / (outputTokens - 1), tags);
            }

            if (outputTokens > 0)
            {
                var input = tags;
                input.Add("gen_ai.token.type", "input");
                TokenUsage.Record(promptTokens, input);
                var output = tags;
                output.Add("gen_ai.token.type", "output");
                TokenUsage.Record(outputTokens, output);
            }

            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag("gen_ai.response.model", model);
                activity.SetTag("gen_ai.usage.input_tokens", promptTokens);
                activity.SetTag("gen_ai.usage.output_tokens", outputTokens);
                if (finish is { } f)
                {
                    activity.SetTag("gen_ai.response.finish_reasons", new[] { f == GenerationFinishReason.Length ? "length" : "stop" });
                }

                if (errorType is not null)
                {
                    activity.SetTag("error.type", errorType);
                }

                if (completion is not null)
                {
                    activity.AddEvent(new ActivityEvent("gen_ai.content.completion", tags: new ActivityTagsCollection { ["gen_ai.completion"] = completion.ToString() }));
                }
            }
        }
    }

    private static IEnumerable<Measurement<long>> Observe(Func<OnnxModelRunner, long> read)
    {
        foreach (var runner in Runners.Keys)
        {
            yield return new Measurement<long>(read(runner), new KeyValuePair<string, object?>("gen_ai.request.model", runner.Metadata.ModelId));
        }
    }

    private static IEnumerable<Measurement<double>> ObserveDouble(Func<OnnxModelRunner, double> read)
    {
        foreach (var runner in Runners.Keys)
        {
            yield return new Measurement<double>(read(runner), new KeyValuePair<string, object?>("gen_ai.request.model", runner.Metadata.ModelId));
        }
    }

    private static IEnumerable<Measurement<int>> ObserveMode()
    {
        foreach (var runner in Runners.Keys)
        {
            yield return new Measurement<int>(
                1,
                new KeyValuePair<string, object?>("gen_ai.request.model", runner.Metadata.ModelId),
                new KeyValuePair<string, object?>("infera.scheduling.mode", ModeName(runner.SchedulingMode)),
                new KeyValuePair<string, object?>("infera.batching", BatchingName(runner.Batching)));
        }
    }
}
