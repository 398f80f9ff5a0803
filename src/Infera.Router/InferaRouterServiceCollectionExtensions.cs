using Infera.Router;
using Infera.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Transforms;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers and maps the router: <c>services.AddInferaRouter(o => o.Backends.Add(...))</c>, then <c>app.MapInferaRouter()</c>.</summary>
public static class InferaRouterServiceCollectionExtensions
{
    private static readonly int[] RetriedStatuses = [429, 502, 503, 504];

    /// <summary>Registers the router: YARP with one cluster of the backends, the least-load + affinity policy, active and
    /// passive health checks, the backends' model lists, and metrics for <c>/metrics</c>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adds the backends and sets the options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddInferaRouter(this IServiceCollection services, Action<InferaRouterOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new InferaRouterOptions();
        configure(options);
        options.Validate();

        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<BackendCatalog>();
        services.AddHostedService(sp => sp.GetRequiredService<BackendCatalog>());
        services.AddSingleton<RouterMetrics>();
        services.AddSingleton<ILoadBalancingPolicy, LeastLoadAffinityPolicy>();
        services.AddSingleton<IPassiveHealthCheckPolicy, TransportFailurePolicy>();
        services.AddReverseProxy()
            .LoadFromMemory([InferaRouterConfig.Route()], [InferaRouterConfig.Cluster(options)])
            .AddTransforms(transforms =>
            {
                transforms.AddRequestTransform(context =>
                {
                    if (options.BackendApiKey is { } key)
                    {
                        context.ProxyRequest.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
                    }
                    else if (options.ApiKey is not null)
                    {
                        // The client's key is the router's; it is not passed on.
                        context.ProxyRequest.Headers.Authorization = null;
                    }

                    return ValueTask.CompletedTask;
                });
                transforms.AddResponseTransform(context =>
                {
                    // A backend that is busy or failing answers before any byte reached the client: drop its answer and try another.
                    if (context.ProxyResponse is { } response
                        && RetriedStatuses.Contains((int)response.StatusCode)
                        && context.HttpContext.Items.TryGetValue(RouterRequestMiddleware.CanRetryItem, out var canRetry) && canRetry is true)
                    {
                        context.SuppressResponseBody = true;
                        context.HttpContext.Items[RouterRequestMiddleware.RetryStatusItem] = (int)response.StatusCode;
                    }

                    return ValueTask.CompletedTask;
                });
            });

        services.AddSingleton<PrometheusTextExporter>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(RouterMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddReader(sp => new BaseExportingMetricReader(sp.GetRequiredService<PrometheusTextExporter>())));
        return services;
    }

    /// <summary>Maps the router: <c>/health</c>, <c>/health/ready</c>, <c>/metrics</c>, the merged <c>/v1/models</c> and
    /// <c>/api/tags</c>, and every other path through YARP to a backend.</summary>
    /// <param name="endpoints">The endpoint route builder (the app).</param>
    /// <returns>The proxy's endpoint convention builder.</returns>
    public static IEndpointConventionBuilder MapInferaRouter(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        // The instruments exist from the start, so the first scrape shows every backend.
        _ = endpoints.ServiceProvider.GetRequiredService<RouterMetrics>();
        endpoints.MapGet("/health", RouterEndpoints.HealthAsync);
        endpoints.MapGet("/health/ready", RouterEndpoints.HealthAsync);
        endpoints.MapGet("/metrics", RouterEndpoints.MetricsAsync);
        endpoints.MapGet("/v1/models", RouterEndpoints.ModelsAsync);
        endpoints.MapGet("/api/tags", RouterEndpoints.TagsAsync);
        return endpoints.MapReverseProxy(pipeline =>
        {
            pipeline.UseMiddleware<RouterRequestMiddleware>();
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });
    }
}
