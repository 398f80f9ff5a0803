using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Infera.Router;

/// <summary>The router's instruments (meter <c>Infera.Router</c>), tagged with the backend they concern.</summary>
internal sealed class RouterMetrics : IDisposable
{
    public const string MeterName = "Infera.Router";
    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _streamErrors;

    public RouterMetrics(IServiceProvider services)
    {
        _meter = new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("infera.router.requests", "{request}", "Requests answered through a backend, by backend and HTTP status.");
        _retries = _meter.CreateCounter<long>("infera.router.retries", "{request}", "Attempts that failed before the response started and were retried on another backend, by the backend that failed and why.");
        _streamErrors = _meter.CreateCounter<long>("infera.router.stream_errors", "{request}", "Streams that a backend broke off after they started; each ended with one error event.");
        _meter.CreateObservableGauge("infera.router.backend.outstanding", () => Destinations(services).Select(d => new Measurement<int>(d.ConcurrentRequestCount, Tag(d))), "{request}", "Requests each backend is answering now.");
        _meter.CreateObservableGauge("infera.router.backend.healthy", () => Destinations(services).Select(d => new Measurement<int>(IsHealthy(d) ? 1 : 0, Tag(d))), "1", "1 when the backend takes requests (no failed probe or request has put it out), else 0.");
    }

    public void Answered(string backend, int status) =>
        _requests.Add(1, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("status", status));

    public void Retried(string backend, string reason) =>
        _retries.Add(1, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("reason", reason));

    public void StreamBroken(string backend) => _streamErrors.Add(1, new KeyValuePair<string, object?>("backend", backend));

    public void Dispose() => _meter.Dispose();

    internal static bool IsHealthy(DestinationState destination) =>
        destination.Health.Active != DestinationHealth.Unhealthy && destination.Health.Passive != DestinationHealth.Unhealthy;

    internal static IEnumerable<DestinationState> Destinations(IServiceProvider services) =>
        services.GetRequiredService<IProxyStateLookup>().TryGetCluster(InferaRouterConfig.ClusterId, out var cluster)
            ? cluster.Destinations.Values
            : [];

    private static KeyValuePair<string, object?> Tag(DestinationState destination) => new("backend", destination.DestinationId);
}
