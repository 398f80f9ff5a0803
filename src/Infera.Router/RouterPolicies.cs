using Infera.Remote;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Infera.Router;

/// <summary>YARP load balancing by <see cref="LeastLoadAffinityRule"/>: the request's affinity key (set by
/// <see cref="RouterRequestMiddleware"/>) and each destination's outstanding requests.</summary>
internal sealed class LeastLoadAffinityPolicy(InferaRouterOptions options) : ILoadBalancingPolicy
{
    public const string PolicyName = "InferaLeastLoadAffinity";
    private readonly LeastLoadAffinityRule _rule = new(options.BalanceThreshold);

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        var key = context.Items.TryGetValue(RouterRequestMiddleware.AffinityKeyItem, out var value) ? value as ulong? : null;
        int index = _rule.Choose(availableDestinations, d => d.DestinationId, d => d.ConcurrentRequestCount, key);
        return index < 0 ? null : availableDestinations[index];
    }
}

/// <summary>YARP passive health: one transport failure (no connection, a broken response) puts the backend out for
/// <see cref="InferaRouterOptions.ReactivationPeriod"/>, after which the active probes decide; a request answered
/// keeps it in.</summary>
internal sealed class TransportFailurePolicy(IDestinationHealthUpdater health, InferaRouterOptions options) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "InferaTransportFailure";

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        var failed = !context.RequestAborted.IsCancellationRequested
            && context.Features.Get<IForwarderErrorFeature>()?.Error is ForwarderError.Request
                or ForwarderError.RequestTimedOut
                or ForwarderError.RequestBodyDestination
                or ForwarderError.ResponseBodyDestination
                or ForwarderError.ResponseHeaders;
        health.SetPassive(cluster, destination, failed ? DestinationHealth.Unhealthy : DestinationHealth.Healthy, options.ReactivationPeriod);
    }
}
