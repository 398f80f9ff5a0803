using System.ClientModel;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Infera.Remote;

/// <summary>
/// One <see cref="IChatClient"/> over a pool of OpenAI-compatible endpoints (<c>infera serve</c> replicas, vLLM, SGLang,
/// TGI, llama-server, Ollama). Each request goes to a healthy endpoint that serves its model, by
/// <see cref="LeastLoadAffinityRule"/> (least outstanding requests; the turns of a conversation stay on one endpoint);
/// one that fails before its first token is tried on another; one that fails after tokens were streamed ends with
/// <see cref="RemoteStreamException"/>. Endpoints are probed in the background and ejected after a failure until a probe
/// passes. The endpoint that answered is named in <see cref="ChatResponse.AdditionalProperties"/> and each update's
/// (<see cref="EndpointProperty"/>).
/// </summary>
public sealed class RemoteChatClient : IChatClient
{
    /// <summary>The additional property that names the endpoint that answered.</summary>
    public const string EndpointProperty = "infera.endpoint";

    private readonly RemoteChatClientOptions _options;
    private readonly RemoteEndpoint[] _endpoints;
    private readonly LeastLoadAffinityRule _rule;
    private readonly RemoteMetrics _metrics;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _probing;

    /// <summary>Initializes a new instance of the <see cref="RemoteChatClient"/> class and starts probing its endpoints.</summary>
    /// <param name="options">The endpoints and settings.</param>
    public RemoteChatClient(RemoteChatClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _endpoints = [.. options.Endpoints.Select(e => new RemoteEndpoint(e, options))];
        if (_endpoints.Select(e => e.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count() != _endpoints.Length)
        {
            throw new ArgumentException("An endpoint is named twice.", nameof(options));
        }

        _rule = new LeastLoadAffinityRule(options.BalanceThreshold);
        _metrics = new RemoteMetrics(options.MeterFactory, () => _endpoints);
        _probing = Task.Run(() => ProbeLoopAsync(_stop.Token));
    }

    /// <summary>Gets each endpoint's state now.</summary>
    public IReadOnlyList<RemoteEndpointState> EndpointStates =>
        [.. _endpoints.Select(e => new RemoteEndpointState(e.Name, e.Healthy, e.Outstanding, e.Models))];

    /// <summary>Probes every endpoint now (health and model list).</summary>
    /// <param name="cancellationToken">Cancels the probes.</param>
    /// <returns>A task that completes when every endpoint answered or failed.</returns>
    public Task ProbeAsync(CancellationToken cancellationToken = default) =>
        Task.WhenAll(_endpoints.Select(e => e.ProbeAsync(cancellationToken)));

    /// <inheritdoc/>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? [.. messages];
        var key = AffinityKey(list, options);
        var tried = new List<RemoteEndpoint>();
        Exception? last = null;
        while (tried.Count < _options.MaxAttempts && Pick(options, key, tried) is { } endpoint)
        {
            var model = ModelFor(endpoint, options);
            long start = _options.TimeProvider.GetTimestamp();
            endpoint.Begin();
            try
            {
                var response = await endpoint.ChatClient(model).GetResponseAsync(list, options, cancellationToken).ConfigureAwait(false);
                _metrics.Attempt(endpoint.Name, "ok");
                _metrics.Answered(endpoint.Name, _options.TimeProvider.GetElapsedTime(start));
                (response.AdditionalProperties ??= [])[EndpointProperty] = endpoint.Name;
                return response;
            }
            catch (Exception ex) when (IsEndpointFailure(ex, cancellationToken))
            {
                FailedBeforeFirstToken(endpoint, tried);
                last = ex;
            }
            finally
            {
                endpoint.End();
            }
        }

        throw Unavailable(tried, last);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? [.. messages];
        var key = AffinityKey(list, options);
        var tried = new List<RemoteEndpoint>();
        Exception? last = null;
        while (tried.Count < _options.MaxAttempts && Pick(options, key, tried) is { } endpoint)
        {
            var model = ModelFor(endpoint, options);
            long start = _options.TimeProvider.GetTimestamp();
            var held = new List<ChatResponseUpdate>();
            bool started = false;
            Exception? failure = null;
            endpoint.Begin();
            var updates = endpoint.ChatClient(model).GetStreamingResponseAsync(list, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    ChatResponseUpdate update;
                    try
                    {
                        if (!await updates.MoveNextAsync().ConfigureAwait(false))
                        {
                            break;
                        }

                        update = updates.Current;
                    }
                    catch (Exception ex) when (IsEndpointFailure(ex, cancellationToken))
                    {
                        failure = ex;
                        break;
                    }

                    (update.AdditionalProperties ??= [])[EndpointProperty] = endpoint.Name;
                    if (started)
                    {
                        yield return update;
                        continue;
                    }

                    // Updates without content (the role) are held until the first token: until then the request can move.
                    held.Add(update);
                    if (update.Contents.Count > 0)
                    {
                        started = true;
                        foreach (var early in held)
                        {
                            yield return early;
                        }

                        held.Clear();
                    }
                }
            }
            finally
            {
                endpoint.End();
                await updates.DisposeAsync().ConfigureAwait(false);
            }

            if (failure is null)
            {
                foreach (var early in held)
                {
                    yield return early;
                }

                _metrics.Attempt(endpoint.Name, "ok");
                _metrics.Answered(endpoint.Name, _options.TimeProvider.GetElapsedTime(start));
                yield break;
            }

            if (started)
            {
                endpoint.Failed();
                _metrics.Attempt(endpoint.Name, "stream_broken");
                throw new RemoteStreamException(endpoint.Name, failure);
            }

            FailedBeforeFirstToken(endpoint, tried);
            last = failure;
        }

        throw Unavailable(tried, last);
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType?.IsInstanceOfType(this) == true ? this
        : serviceKey is null && serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("infera-remote", _endpoints[0].Address, _options.DefaultModel)
        : null;

    /// <inheritdoc/>
    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _probing.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The probe loop ends by cancellation.
        }

        foreach (var endpoint in _endpoints)
        {
            endpoint.Dispose();
        }

        _metrics.Dispose();
        _stop.Dispose();
    }

    private static bool IsEndpointFailure(Exception ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && ex switch
        {
            HttpRequestException or IOException or TimeoutRejectedException or BrokenCircuitException or OperationCanceledException => true,
            ClientResultException result => result.Status is 0 or 408 or 429 or >= 500,
            _ => ex.InnerException is { } inner && IsEndpointFailure(inner, cancellationToken),
        };

    private void FailedBeforeFirstToken(RemoteEndpoint endpoint, List<RemoteEndpoint> tried)
    {
        endpoint.Failed();
        tried.Add(endpoint);
        _metrics.Attempt(endpoint.Name, "failed");
        _metrics.FailedOver(endpoint.Name);
    }

    private RemoteEndpointsUnavailableException Unavailable(List<RemoteEndpoint> tried, Exception? last) =>
        new(tried.Count == 0
                ? "No endpoint of the pool is available."
                : $"The request failed before its first token on {tried.Count} endpoint{(tried.Count == 1 ? string.Empty : "s")} ({string.Join(", ", tried.Select(e => e.Name))}).",
            last);

    private ulong? AffinityKey(IList<ChatMessage> messages, ChatOptions? options)
    {
        IEnumerable<(string, string?)> parts = messages.Select(m => (m.Role.Value, (string?)m.Text));
        if (options?.Instructions is { } instructions)
        {
            parts = parts.Prepend(("system", instructions));
        }

        return PromptAffinity.OfMessages(parts, _options.AffinityPrefixChars);
    }

    private string ModelFor(RemoteEndpoint endpoint, ChatOptions? options) =>
        options?.ModelId ?? _options.DefaultModel ?? endpoint.Models?.FirstOrDefault()
        ?? throw new InvalidOperationException($"No model is named (ChatOptions.ModelId or RemoteChatClientOptions.DefaultModel) and {endpoint.Name} lists none.");

    // The endpoint for the next attempt: healthy ones that serve the model first; if none is healthy, any that serves it.
    private RemoteEndpoint? Pick(ChatOptions? options, ulong? key, List<RemoteEndpoint> tried)
    {
        var model = options?.ModelId ?? _options.DefaultModel;
        if (model is not null && _endpoints.All(e => e.Models is not null) && !_endpoints.Any(e => e.Serves(model)))
        {
            throw new InvalidOperationException($"No endpoint of the pool serves the model '{model}' ({string.Join("; ", _endpoints.Select(e => $"{e.Name}: {string.Join(", ", e.Models!)}"))}).");
        }

        var untried = _endpoints.Where(e => !tried.Contains(e) && e.Serves(model)).ToList();
        var healthy = untried.Where(e => e.Healthy).ToList();
        var candidates = healthy.Count > 0 ? healthy : untried;
        int index = _rule.Choose(candidates, e => e.Name, e => e.Outstanding, key);
        return index < 0 ? null : candidates[index];
    }

    private async Task ProbeLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.ProbeInterval, _options.TimeProvider);
        do
        {
            try
            {
                await ProbeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }
}

/// <summary>One endpoint's state.</summary>
/// <param name="Name">The endpoint's address.</param>
/// <param name="Healthy">Whether it takes requests (not ejected, its last probe passed).</param>
/// <param name="Outstanding">Requests it is answering now.</param>
/// <param name="Models">The models it listed at the last probe, or <see langword="null"/> before it answered one.</param>
public sealed record RemoteEndpointState(string Name, bool Healthy, int Outstanding, IReadOnlyList<string>? Models);
