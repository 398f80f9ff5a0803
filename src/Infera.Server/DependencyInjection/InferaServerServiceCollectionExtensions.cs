using Infera.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Infera's OpenAI-compatible server: the served models, their loading, and OpenTelemetry metrics.</summary>
public static class InferaServerServiceCollectionExtensions
{
    // Infera's Meter and ActivitySource (InferaTelemetry.SourceName), and ASP.NET Core's built-in meters and activities.
    private static readonly string[] Meters = ["Infera", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];
    private static readonly string[] Sources = ["Infera", "Microsoft.AspNetCore"];

    /// <summary>Registers the server for the model in a folder; its id is the folder's name unless <paramref name="configure"/> says otherwise.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="modelPath">The ONNX Runtime GenAI model folder.</param>
    /// <param name="configure">Configures the API key, limits and further models; may be <see langword="null"/>.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddInferaServer(this IServiceCollection services, string modelPath, Action<InferaServerOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        return services.AddInferaServer(options =>
        {
            options.AddModel(modelPath);
            configure?.Invoke(options);
        });
    }

    /// <summary>Registers the server: <see cref="InferaServerOptions"/>, the <see cref="InferaModelRegistry"/> (models load when the host starts) and
    /// OpenTelemetry metrics for the <c>/metrics</c> endpoint, and OTLP export when <see cref="InferaServerOptions.OtlpEndpoint"/> is set.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adds the models (<see cref="InferaServerOptions.AddModel(string, string?, Infera.OnnxModelRunnerOptions?)"/>) and sets the options.</param>
    /// <returns>The service collection.</returns>
    /// <remarks>Map the endpoints with <c>app.MapInferaEndpoints()</c>.</remarks>
    public static IServiceCollection AddInferaServer(this IServiceCollection services, Action<InferaServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        if (services.Any(d => d.ServiceType == typeof(InferaServerOptions)))
        {
            throw new InvalidOperationException("AddInferaServer was already called; add every model in one call with InferaServerOptions.AddModel.");
        }

        var options = new InferaServerOptions();
        configure(options);
        options.Validate();

        services.AddSingleton(options);
        services.AddSingleton(sp => new InferaModelRegistry(
            options,
            sp,
            sp.GetService<ILoggerFactory>()?.CreateLogger<InferaModelRegistry>() ?? NullLogger<InferaModelRegistry>.Instance));
        services.AddHostedService<ModelLoadingService>();

        services.AddSingleton<PrometheusTextExporter>();
        var telemetry = services.AddOpenTelemetry();
        telemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(Meters).AddReader(sp => new BaseExportingMetricReader(sp.GetRequiredService<PrometheusTextExporter>()));
            if (options.OtlpEndpoint is { } endpoint)
            {
                metrics.AddOtlpExporter(otlp => otlp.Endpoint = endpoint);
            }
        });
        if (options.OtlpEndpoint is { } traceEndpoint)
        {
            telemetry.WithTracing(tracing => tracing.AddSource(Sources).AddOtlpExporter(otlp => otlp.Endpoint = traceEndpoint));
        }

        return services;
    }
}
