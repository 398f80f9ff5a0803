using Infera.Remote;

namespace Infera.Router;

/// <summary>The settings of <c>infera router</c> (<c>services.AddInferaRouter</c>).</summary>
public sealed class InferaRouterOptions
{
    /// <summary>Gets the backends: base addresses of OpenAI-compatible servers (<c>http://host:port</c>, without <c>/v1</c>).</summary>
    public IList<Uri> Backends { get; } = [];

    /// <summary>Gets or sets the key clients must send (<c>Authorization: Bearer KEY</c>) on <c>/v1/...</c> and <c>/api/...</c>; <see langword="null"/> for none.
    /// The client's header is not forwarded when a key is set.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the key sent to the backends (<c>Authorization: Bearer KEY</c>), also by the router's own model listing.</summary>
    public string? BackendApiKey { get; set; }

    /// <summary>Gets or sets the path the active health check asks each backend for (2xx is healthy). Default: <c>/health</c>
    /// (infera serve, vLLM, SGLang, TGI, llama-server); Ollama answers <c>/</c>.</summary>
    public string HealthCheckPath { get; set; } = "/health";

    /// <summary>Gets or sets how often each backend is probed. Default: 5 s.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long one probe may take. Default: 5 s.</summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long a backend that failed a request stays out before probes may bring it back. Default: 5 s.</summary>
    public TimeSpan ReactivationPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how often the backends' model lists are read again. Default: 30 s (and at once when a request names a model no backend was seen to serve).</summary>
    public TimeSpan ModelRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many backends one request may try before its response starts. Default: 3.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Gets or sets how many characters of the prompt (or of the messages up to the first user message) make the affinity key; 0 turns affinity off. Default: 256.</summary>
    public int AffinityPrefixChars { get; set; } = PromptAffinity.DefaultPrefixChars;

    /// <summary>Gets or sets how many outstanding requests the affinity backend may have above the least-loaded one before load wins. Default: 4.</summary>
    public int BalanceThreshold { get; set; } = LeastLoadAffinityRule.DefaultBalanceThreshold;

    /// <summary>Gets or sets the largest request body read (for the model and affinity key) and kept for retries. Default: 4 MiB.</summary>
    public long MaxRequestBodySize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Gets or sets how long a backend may be silent during one request (no response headers or no body bytes). Default: 10 min.</summary>
    public TimeSpan ActivityTimeout { get; set; } = TimeSpan.FromMinutes(10);

    internal void Validate()
    {
        if (Backends.Count == 0)
        {
            throw new ArgumentException("The router needs at least one backend (--backend URL).");
        }

        foreach (var backend in Backends)
        {
            if (!backend.IsAbsoluteUri || (backend.Scheme != Uri.UriSchemeHttp && backend.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"A backend must be an http:// or https:// address; it was '{backend}'.");
            }
        }

        if (Backends.Select(BackendName).Distinct(StringComparer.OrdinalIgnoreCase).Count() != Backends.Count)
        {
            throw new ArgumentException("A backend is named twice.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 1, nameof(MaxAttempts));
        ArgumentOutOfRangeException.ThrowIfNegative(AffinityPrefixChars, nameof(AffinityPrefixChars));
        ArgumentOutOfRangeException.ThrowIfNegative(BalanceThreshold, nameof(BalanceThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HealthCheckInterval, TimeSpan.Zero, nameof(HealthCheckInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HealthCheckTimeout, TimeSpan.Zero, nameof(HealthCheckTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ModelRefreshInterval, TimeSpan.Zero, nameof(ModelRefreshInterval));
        if (!HealthCheckPath.StartsWith('/'))
        {
            throw new ArgumentException($"The health check path must start with '/'; it was '{HealthCheckPath}'.");
        }
    }

    /// <summary>The name of a backend in <c>X-Infera-Backend</c>, metrics and logs: its address without a trailing slash.</summary>
    internal static string BackendName(Uri backend) => backend.GetLeftPart(UriPartial.Path).TrimEnd('/');
}
