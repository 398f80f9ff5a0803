using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Infera.Router;

/// <summary>
/// What each backend serves: its <c>GET /v1/models</c> entries (and <c>GET /api/tags</c> where it speaks Ollama's API),
/// read at start, every <see cref="InferaRouterOptions.ModelRefreshInterval"/>, and at once (at most once a second) when a
/// request names a model that no backend was seen to serve.
/// </summary>
internal sealed partial class BackendCatalog : BackgroundService
{
    private static readonly TimeSpan OnDemandSpacing = TimeSpan.FromSeconds(1);
    private readonly InferaRouterOptions _options;
    private readonly HttpClient _http;
    private readonly ILogger<BackendCatalog> _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly TaskCompletionSource _firstRead = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile IReadOnlyDictionary<string, BackendModels> _backends = new Dictionary<string, BackendModels>();
    private long _lastRefresh;

    public BackendCatalog(InferaRouterOptions options, ILogger<BackendCatalog> logger, TimeProvider time)
    {
        _options = options;
        _logger = logger;
        _time = time;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = options.HealthCheckTimeout };
        if (options.BackendApiKey is { } key)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }

    /// <summary>Gets the latest model lists, by backend name; a backend that did not answer has <see cref="BackendModels.Known"/> false.</summary>
    public IReadOnlyDictionary<string, BackendModels> Backends => _backends;

    /// <summary>Waits for the first reading of every backend's models.</summary>
    public Task FirstReadAsync(CancellationToken cancellationToken) => _firstRead.Task.WaitAsync(cancellationToken);

    /// <summary>Reads every backend's models again unless that was done within the last second.</summary>
    public async Task RefreshSoonAsync(CancellationToken cancellationToken)
    {
        long last = Interlocked.Read(ref _lastRefresh);
        if (last != 0 && _time.GetElapsedTime(last) < OnDemandSpacing)
        {
            return;
        }

        await RefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads every backend's models now.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken, bool onlyUnknown = false)
    {
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var previous = _backends;
            var reads = _options.Backends.Select(async Task<(string Name, BackendModels Read)> (backend) =>
            {
                var name = InferaRouterOptions.BackendName(backend);
                if (onlyUnknown && previous.TryGetValue(name, out var known) && known.Known)
                {
                    return (name, known);
                }

                var read = await ReadAsync(backend, cancellationToken).ConfigureAwait(false);

                // A backend that cannot be reached keeps what it was last seen to serve, so that it can come back.
                if (!read.Known && previous.TryGetValue(name, out var before) && before.Known)
                {
                    read = before;
                }

                return (name, read);
            });
            var results = await Task.WhenAll(reads).ConfigureAwait(false);
            _backends = results.ToDictionary(r => r.Name, r => r.Read, StringComparer.OrdinalIgnoreCase);
            Interlocked.Exchange(ref _lastRefresh, _time.GetTimestamp());
            _firstRead.TrySetResult();
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>Whether a backend serves a model (by OpenAI id or Ollama name, <c>:latest</c> optional).</summary>
    public static bool Serves(BackendModels models, string model) => models.Ids.Any(id => ModelNamesMatch(id, model));

    internal static bool ModelNamesMatch(string a, string b)
    {
        const string Latest = ":latest";
        static string Plain(string name) => name.EndsWith(Latest, StringComparison.OrdinalIgnoreCase) ? name[..^Latest.Length] : name;
        return string.Equals(Plain(a), Plain(b), StringComparison.OrdinalIgnoreCase);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Every probe interval the backends whose list is unknown (down, or not started yet) are asked again; every
        // ModelRefreshInterval all of them.
        using var timer = new PeriodicTimer(_options.HealthCheckInterval < _options.ModelRefreshInterval ? _options.HealthCheckInterval : _options.ModelRefreshInterval, _time);
        long lastFull = 0;
        do
        {
            try
            {
                bool full = lastFull == 0 || _time.GetElapsedTime(lastFull) >= _options.ModelRefreshInterval;
                if (full)
                {
                    lastFull = _time.GetTimestamp();
                    await RefreshAsync(stoppingToken).ConfigureAwait(false);
                }
                else if (_backends.Values.Any(b => !b.Known))
                {
                    await RefreshAsync(stoppingToken, onlyUnknown: true).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    public override void Dispose()
    {
        _http.Dispose();
        _refreshing.Dispose();
        base.Dispose();
    }

    private async Task<BackendModels> ReadAsync(Uri backend, CancellationToken cancellationToken)
    {
        var name = InferaRouterOptions.BackendName(backend);
        List<JsonElement> openAi = [];
        List<JsonElement>? ollama = null;
        var ids = new List<string>();
        try
        {
            using (var response = await _http.GetAsync(new Uri(backend, "v1/models"), cancellationToken).ConfigureAwait(false))
            {
                if (!response.IsSuccessStatusCode)
                {
                    Log.ModelsUnreadable(_logger, name, $"HTTP {(int)response.StatusCode}");
                    return BackendModels.Unknown;
                }

                using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
                if (document.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
                {
                    foreach (var entry in data.EnumerateArray())
                    {
                        if (entry.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
                        {
                            ids.Add(id.GetString()!);
                            openAi.Add(entry.Clone());
                        }
                    }
                }
            }

            using (var response = await _http.GetAsync(new Uri(backend, "api/tags"), cancellationToken).ConfigureAwait(false))
            {
                if (response.IsSuccessStatusCode)
                {
                    using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
                    if (document.RootElement.TryGetProperty("models", out var models) && models.ValueKind == JsonValueKind.Array)
                    {
                        ollama = [];
                        foreach (var entry in models.EnumerateArray())
                        {
                            ollama.Add(entry.Clone());
                            if (entry.TryGetProperty("name", out var tagName) && tagName.ValueKind == JsonValueKind.String)
                            {
                                ids.Add(tagName.GetString()!);
                            }
                        }
                    }
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Log.ModelsUnreadable(_logger, name, ex.Message);
            return BackendModels.Unknown;
        }

        return new BackendModels(true, ids, openAi, ollama);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend}: the model list could not be read ({Reason}).")]
        public static partial void ModelsUnreadable(ILogger logger, string backend, string reason);
    }
}

/// <summary>The models one backend serves.</summary>
/// <param name="Known">Whether the backend's list was read.</param>
/// <param name="Ids">The model names, OpenAI ids and Ollama names.</param>
/// <param name="OpenAIEntries">The entries of its <c>/v1/models</c> <c>data</c>.</param>
/// <param name="OllamaEntries">The entries of its <c>/api/tags</c> <c>models</c>, or <see langword="null"/> when it does not speak Ollama's API.</param>
internal sealed record BackendModels(bool Known, IReadOnlyList<string> Ids, IReadOnlyList<JsonElement> OpenAIEntries, IReadOnlyList<JsonElement>? OllamaEntries)
{
    public static BackendModels Unknown { get; } = new(false, [], [], null);
}
