using System.Diagnostics.Metrics;

namespace Infera.Remote;

/// <summary>The settings of a <see cref="RemoteChatClient"/>: its endpoints and how it routes, probes and fails over.</summary>
public sealed class RemoteChatClientOptions
{
    /// <summary>Gets the endpoints: base addresses of OpenAI-compatible servers (<c>http://host:port</c>; <c>/v1</c> is added).</summary>
    public IList<Uri> Endpoints { get; } = [];

    /// <summary>Gets or sets the key sent to every endpoint (<c>Authorization: Bearer KEY</c>); <see langword="null"/> sends none that matters.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the model asked for when <see cref="Microsoft.Extensions.AI.ChatOptions.ModelId"/> is not set;
    /// <see langword="null"/> takes the first model the chosen endpoint lists.</summary>
    public string? DefaultModel { get; set; }

    /// <summary>Gets or sets how often each endpoint is probed (<c>/health/ready</c>, else <c>/health</c>, else <c>/v1/models</c>, whichever it has; and its model list). Default: 5 s.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long one probe may take. Default: 5 s.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long an endpoint that failed a request stays out at least; a passing probe after that brings it back. Default: 5 s.</summary>
    public TimeSpan EjectionPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long one attempt may wait for the response to start (headers; for a non-streamed request, the whole answer). Default: 10 min.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Gets or sets how many endpoints one request may try before its first token. Default: 3.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Gets or sets how many times one endpoint that answers 429 or 503 (busy, loading) is asked again, after its
    /// <c>Retry-After</c>, before the request moves on to another endpoint. Default: 1.</summary>
    public int RetriesPerEndpoint { get; set; } = 1;

    /// <summary>Gets or sets how many characters of the conversation's start (messages up to the first user message) make the affinity key; 0 turns affinity off. Default: 256.</summary>
    public int AffinityPrefixChars { get; set; } = PromptAffinity.DefaultPrefixChars;

    /// <summary>Gets or sets how many outstanding requests the affinity endpoint may have above the least-loaded one before load wins. Default: 4.</summary>
    public int BalanceThreshold { get; set; } = LeastLoadAffinityRule.DefaultBalanceThreshold;

    /// <summary>Gets or sets the meter factory for the <c>Infera.Remote</c> instruments; <see langword="null"/> creates the meter directly.</summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Gets or sets the clock of probes and ejection. Default: the system clock.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        if (Endpoints.Count == 0)
        {
            throw new ArgumentException("A RemoteChatClient needs at least one endpoint.");
        }

        foreach (var endpoint in Endpoints)
        {
            if (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"An endpoint must be an http:// or https:// address; it was '{endpoint}'.");
            }
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 1, nameof(MaxAttempts));
        ArgumentOutOfRangeException.ThrowIfNegative(RetriesPerEndpoint, nameof(RetriesPerEndpoint));
        ArgumentOutOfRangeException.ThrowIfNegative(AffinityPrefixChars, nameof(AffinityPrefixChars));
        ArgumentOutOfRangeException.ThrowIfNegative(BalanceThreshold, nameof(BalanceThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ProbeInterval, TimeSpan.Zero, nameof(ProbeInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ProbeTimeout, TimeSpan.Zero, nameof(ProbeTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(AttemptTimeout, TimeSpan.Zero, nameof(AttemptTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(EjectionPeriod, TimeSpan.Zero, nameof(EjectionPeriod));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}
