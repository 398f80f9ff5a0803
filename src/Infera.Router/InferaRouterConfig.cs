using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Infera.Router;

/// <summary>The YARP route and cluster of the router: every path not answered by the router itself goes to one cluster of
/// the backends, with the router's load balancing and health policies.</summary>
internal static class InferaRouterConfig
{
    public const string ClusterId = "infera-backends";
    public const string RouteId = "infera-backends";

    public static RouteConfig Route() => new()
    {
        RouteId = RouteId,
        ClusterId = ClusterId,
        // After the router's own endpoints (/health, /metrics, /v1/models, /api/tags).
        Order = int.MaxValue,
        Match = new RouteMatch { Path = "{**path}" },
    };

    public static ClusterConfig Cluster(InferaRouterOptions options) => new()
    {
        ClusterId = ClusterId,
        LoadBalancingPolicy = LeastLoadAffinityPolicy.PolicyName,
        Destinations = options.Backends.ToDictionary(
            InferaRouterOptions.BackendName,
            backend => new DestinationConfig { Address = InferaRouterOptions.BackendName(backend) + "/" },
            StringComparer.OrdinalIgnoreCase),
        HealthCheck = new HealthCheckConfig
        {
            Active = new ActiveHealthCheckConfig
            {
                Enabled = true,
                Interval = options.HealthCheckInterval,
                Timeout = options.HealthCheckTimeout,
                Policy = "ConsecutiveFailures",
                Path = options.HealthCheckPath,
            },
            Passive = new PassiveHealthCheckConfig
            {
                Enabled = true,
                Policy = TransportFailurePolicy.PolicyName,
                ReactivationPeriod = options.ReactivationPeriod,
            },
        },
        HttpRequest = new ForwarderRequestConfig
        {
            ActivityTimeout = options.ActivityTimeout,
            AllowResponseBuffering = false,
        },
        Metadata = new Dictionary<string, string>
        {
            // Two failed probes in a row put a backend out; one answered probe brings it back.
            ["ConsecutiveFailuresHealthPolicy.Threshold"] = "2",
        },
    };
}
