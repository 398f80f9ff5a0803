using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Http.Resilience;
using OpenAI;
using Polly;

namespace Infera.Remote;

/// <summary>One endpoint of a <see cref="RemoteChatClient"/>: its HTTP client (with Microsoft.Extensions.Http.Resilience:
/// retry on 429/503, circuit breaker, attempt timeout), its chat clients by model (Microsoft.Extensions.AI.OpenAI), and
/// its state: health, outstanding requests, the models it lists.</summary>
internal sealed class RemoteEndpoint : IDisposable
{
    private static readonly string[] ProbePaths = ["health/ready", "health", "v1/models"];
    private readonly RemoteChatClientOptions _options;
    private readonly HttpClient _http;
    private readonly HttpClient _probe;
    private readonly OpenAIClient _openAI;
    private readonly ConcurrentDictionary<string, IChatClient> _clients = new(StringComparer.Ordinal);
    private int _outstanding;
    private int _probePath;
    private long _ejectedAt;
    private volatile bool _healthy = true;
    private volatile IReadOnlyList<string>? _models;

    public RemoteEndpoint(Uri address, RemoteChatClientOptions options)
    {
        _options = options;
        Address = address;
        Name = address.GetLeftPart(UriPartial.Path).TrimEnd('/');
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (options.RetriesPerEndpoint > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.RetriesPerEndpoint,
                Delay = TimeSpan.FromMilliseconds(250),
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result?.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable),
            });
        }

        pipeline
            .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions { FailureRatio = 0.5, MinimumThroughput = 4, SamplingDuration = TimeSpan.FromSeconds(30), BreakDuration = options.EjectionPeriod > TimeSpan.FromSeconds(1) ? options.EjectionPeriod : TimeSpan.FromSeconds(1) })
            .AddTimeout(new HttpTimeoutStrategyOptions { Timeout = options.AttemptTimeout });
        _http = new HttpClient(new ResilienceHandler(pipeline.Build()) { InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), ConnectTimeout = options.ProbeTimeout } })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _probe = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = options.ProbeTimeout };
        if (options.ApiKey is { } key)
        {
            _probe.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        _openAI = new OpenAIClient(new ApiKeyCredential(options.ApiKey ?? "none"), new OpenAIClientOptions
        {
            Endpoint = new Uri(Name + "/v1"),
            Transport = new HttpClientPipelineTransport(_http),
            // Retries are the pool's (another endpoint) and the resilience pipeline's, not the SDK's own.
            RetryPolicy = new ClientRetryPolicy(0),
            NetworkTimeout = options.AttemptTimeout + options.AttemptTimeout,
        });
    }

    public Uri Address { get; }

    public string Name { get; }

    public bool Healthy => _healthy;

    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Gets the models the endpoint listed at the last probe, or <see langword="null"/> before it answered.</summary>
    public IReadOnlyList<string>? Models => _models;

    public IChatClient ChatClient(string model) => _clients.GetOrAdd(model, m => _openAI.GetChatClient(m).AsIChatClient());

    public bool Serves(string? model) => model is null || _models is not { } models || models.Any(m => SameModel(m, model));

    public void Begin() => Interlocked.Increment(ref _outstanding);

    public void End() => Interlocked.Decrement(ref _outstanding);

    /// <summary>Passive ejection: a failed request puts the endpoint out until a probe passes after <see cref="RemoteChatClientOptions.EjectionPeriod"/>.</summary>
    public void Failed()
    {
        Interlocked.Exchange(ref _ejectedAt, _options.TimeProvider.GetTimestamp());
        _healthy = false;
    }

    /// <summary>Asks the endpoint whether it is healthy and which models it serves.</summary>
    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        bool ok = false;
        try
        {
            for (int i = Volatile.Read(ref _probePath); i < ProbePaths.Length; i++)
            {
                using var response = await _probe.GetAsync(new Uri(Name + "/" + ProbePaths[i]), cancellationToken).ConfigureAwait(false);
                if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed && i < ProbePaths.Length - 1)
                {
                    // The engine has no such path: remember the next one.
                    Volatile.Write(ref _probePath, i + 1);
                    continue;
                }

                ok = response.IsSuccessStatusCode;
                break;
            }

            if (ok)
            {
                using var response = await _probe.GetAsync(new Uri(Name + "/v1/models"), cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), default, cancellationToken).ConfigureAwait(false);
                    if (json.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
                    {
                        _models = [.. data.EnumerateArray().Where(m => m.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String).Select(m => m.GetProperty("id").GetString()!)];
                    }
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            ok = false;
        }

        if (!ok)
        {
            _healthy = false;
        }
        else if (!_healthy && _options.TimeProvider.GetElapsedTime(Interlocked.Read(ref _ejectedAt)) >= _options.EjectionPeriod)
        {
            _healthy = true;
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _probe.Dispose();
    }

    internal static bool SameModel(string a, string b)
    {
        const string Latest = ":latest";
        static string Plain(string name) => name.EndsWith(Latest, StringComparison.OrdinalIgnoreCase) ? name[..^Latest.Length] : name;
        return string.Equals(Plain(a), Plain(b), StringComparison.OrdinalIgnoreCase);
    }
}
