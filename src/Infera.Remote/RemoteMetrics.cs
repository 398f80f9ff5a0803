using System.Diagnostics.Metrics;

namespace Infera.Remote;

/// <summary>The <c>Infera.Remote</c> instruments, tagged with the endpoint.</summary>
internal sealed class RemoteMetrics : IDisposable
{
    public const string MeterName = "Infera.Remote";
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _failovers;
    private readonly Histogram<double> _duration;

    public RemoteMetrics(IMeterFactory? factory, Func<IEnumerable<RemoteEndpoint>> endpoints)
    {
        _ownsMeter = factory is null;
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("infera.remote.requests", "{request}", "Attempts on each endpoint, by outcome: ok, failed (before the first token; tried elsewhere), stream_broken (after it).");
        _failovers = _meter.CreateCounter<long>("infera.remote.failovers", "{request}", "Requests moved from the endpoint to another after it failed before the first token.");
        _duration = _meter.CreateHistogram<double>("infera.remote.request.duration", "s", "Time from sending to the last token, for requests an endpoint answered.");
        _meter.CreateObservableGauge("infera.remote.endpoint.outstanding", () => endpoints().Select(e => new Measurement<int>(e.Outstanding, Tag(e.Name))), "{request}", "Requests each endpoint is answering now.");
        _meter.CreateObservableGauge("infera.remote.endpoint.healthy", () => endpoints().Select(e => new Measurement<int>(e.Healthy ? 1 : 0, Tag(e.Name))), "1", "1 when the endpoint takes requests, 0 while it is ejected.");
    }

    public void Attempt(string endpoint, string outcome) =>
        _requests.Add(1, Tag(endpoint), new KeyValuePair<string, object?>("outcome", outcome));

    public void FailedOver(string endpoint) => _failovers.Add(1, Tag(endpoint));

    public void Answered(string endpoint, TimeSpan elapsed) => _duration.Record(elapsed.TotalSeconds, Tag(endpoint));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private static KeyValuePair<string, object?> Tag(string endpoint) => new("endpoint", endpoint);
}
