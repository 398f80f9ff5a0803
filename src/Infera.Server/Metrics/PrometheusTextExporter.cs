using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Infera.Server;

/// <summary>
/// A pull exporter on the stable OpenTelemetry SDK that renders the metrics of one collection in the Prometheus text
/// exposition format (0.0.4). <c>GET /metrics</c> asks for a collection; the reader then calls <see cref="Export"/> on the
/// same thread, while <see cref="ScrapeAsync"/> holds the lock, so one scrape sees one consistent set of points.
/// </summary>
[ExportModes(ExportModes.Pull)]
internal sealed class PrometheusTextExporter : BaseExporter<Metric>, IPullMetricExporter
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PrometheusTextWriter? _writer;

    /// <summary>Gets or sets the collection callback; the OpenTelemetry reader sets it when the meter provider is built.</summary>
    public Func<int, bool>? Collect { get; set; }

    /// <summary>Collects every instrument now and returns the text, or <see langword="null"/> when no meter provider reads
    /// through this exporter (yet) or the collection failed.</summary>
    public async Task<string?> ScrapeAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Collect is not { } collect)
            {
                return null;
            }

            _writer = new PrometheusTextWriter();
            bool collected = collect(Timeout.Infinite);
            string text = _writer.ToString();
            _writer = null;
            return collected ? text : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public override ExportResult Export(in Batch<Metric> batch)
    {
        if (_writer is not { } writer)
        {
            // Only a scrape asks for a collection; anything else has nobody to write to.
            return ExportResult.Failure;
        }

        foreach (var metric in batch)
        {
            writer.Write(metric);
        }

        return ExportResult.Success;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gate.Dispose();
        }

        base.Dispose(disposing);
    }
}
