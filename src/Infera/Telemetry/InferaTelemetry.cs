namespace Infera;

/// <summary>Names and switches of Infera's OpenTelemetry instrumentation.</summary>
/// <remarks>
/// <para>
/// Infera reports through a <see cref="System.Diagnostics.Metrics.Meter"/> and an
/// <see cref="System.Diagnostics.ActivitySource"/> both named <see cref="SourceName"/>, following the OpenTelemetry
/// GenAI semantic conventions: histograms <c>gen_ai.server.request.duration</c>, <c>gen_ai.server.time_to_first_token</c>,
/// <c>gen_ai.server.time_per_output_token</c> (seconds) and <c>gen_ai.server.token.usage</c> (tokens, with
/// <c>gen_ai.token.type</c> = <c>input</c> or <c>output</c>), tagged with <c>gen_ai.operation.name</c>,
/// <c>gen_ai.request.model</c>, <c>gen_ai.provider.name</c> and, on failures, <c>error.type</c>; and gauges per loaded
/// model: <c>infera.requests.queued</c>, <c>infera.requests.running</c>, <c>infera.batch.size</c>,
/// <c>infera.kv_cache.usage</c> (fraction of the batch's key-value cache in use) and <c>infera.scheduling.mode</c>
/// (1, tagged with the mode in use: <c>batched</c> or <c>per_request</c>, and <c>infera.batching</c>: what batches run
/// on, <c>generator</c>, <c>engine</c> or <c>none</c>), plus the counter <c>infera.engine.steps</c> (batch steps).
/// </para>
/// <para>
/// Each generation is one span named <c>{gen_ai.operation.name} {model}</c>. Prompt and completion text are recorded
/// only when <see cref="EnableSensitiveData"/> is <see langword="true"/>.
/// </para>
/// </remarks>
public static class InferaTelemetry
{
    /// <summary>The name of Infera's <see cref="System.Diagnostics.Metrics.Meter"/> and <see cref="System.Diagnostics.ActivitySource"/>.</summary>
    public const string SourceName = "Infera";

    /// <summary>
    /// The <see cref="GenerationOptions.AdditionalProperties"/> key whose string value names the operation in telemetry
    /// (<c>chat</c>, <c>text_completion</c>); requests without it are reported as <c>text_completion</c>.
    /// </summary>
    public const string OperationNameKey = "gen_ai.operation.name";

    private static volatile bool s_enableSensitiveData;

    /// <summary>
    /// Gets or sets a value indicating whether spans record prompt and completion text. The default is
    /// <see langword="false"/>: prompts often hold personal data.
    /// </summary>
    public static bool EnableSensitiveData
    {
        get => s_enableSensitiveData;
        set => s_enableSensitiveData = value;
    }
}
