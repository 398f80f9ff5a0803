using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Infera.Server.Tests;

public sealed class PrometheusTextExporterTests
{
    [Fact]
    public async Task ScrapeAsync_EveryInstrumentKind_WritesPrometheusTextNamedByTheOpenTelemetryRules()
    {
        using var meter = new Meter("Infera.Test." + Guid.NewGuid().ToString("N"));
        var exporter = new PrometheusTextExporter();
        using var provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(meter.Name)
            .AddView("test.latency", new ExplicitBucketHistogramConfiguration { Boundaries = [0.1, 1] })
            .AddReader(new BaseExportingMetricReader(exporter))
            .Build();
        var latency = meter.CreateHistogram<double>("test.latency", unit: "s", description: "Latency.\nSecond line \\ end.");
        var requests = meter.CreateCounter<long>("test.requests", unit: "{request}");
        var bytes = meter.CreateUpDownCounter<long>("test-queue.size", unit: "By");
        meter.CreateObservableGauge("test.usage", () => 0.25, unit: "1");
        latency.Record(0.0625, new KeyValuePair<string, object?>("model", "a\"b\\c\nd"));
        latency.Record(0.5, new KeyValuePair<string, object?>("model", "a\"b\\c\nd"));
        latency.Record(4, new KeyValuePair<string, object?>("model", "a\"b\\c\nd"));
        requests.Add(3, new KeyValuePair<string, object?>("gen_ai.operation.name", "chat"));
        bytes.Add(10);
        bytes.Add(-4);

        string text = (await exporter.ScrapeAsync(CancellationToken.None))!;
        string[] lines = text.Split('\n');

        const string Labels = "model=\"a\\\"b\\\\c\\nd\"";
        Assert.Contains("# HELP test_latency_seconds Latency.\\nSecond line \\\\ end.", lines);
        Assert.Contains("# TYPE test_latency_seconds histogram", lines);
        Assert.Contains("test_latency_seconds_bucket{" + Labels + ",le=\"0.1\"} 1", lines);
        Assert.Contains("test_latency_seconds_bucket{" + Labels + ",le=\"1\"} 2", lines);
        Assert.Contains("test_latency_seconds_bucket{" + Labels + ",le=\"+Inf\"} 3", lines);
        Assert.Contains("test_latency_seconds_sum{" + Labels + "} 4.5625", lines);
        Assert.Contains("test_latency_seconds_count{" + Labels + "} 3", lines);
        Assert.Contains("# TYPE test_requests_total counter", lines);
        Assert.Contains("test_requests_total{gen_ai_operation_name=\"chat\"} 3", lines);
        Assert.Contains("# TYPE test_queue_size_bytes gauge", lines);
        Assert.Contains("test_queue_size_bytes 6", lines);
        Assert.Contains("test_usage 0.25", lines);
    }

    [Fact]
    public async Task ScrapeAsync_Twice_CountersAreCumulative()
    {
        using var meter = new Meter("Infera.Test." + Guid.NewGuid().ToString("N"));
        var exporter = new PrometheusTextExporter();
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter(meter.Name).AddReader(new BaseExportingMetricReader(exporter)).Build();
        var counter = meter.CreateCounter<long>("steps");

        counter.Add(2);
        string first = (await exporter.ScrapeAsync(CancellationToken.None))!;
        counter.Add(5);
        string second = (await exporter.ScrapeAsync(CancellationToken.None))!;

        Assert.Contains("steps_total 2\n", first, StringComparison.Ordinal);
        Assert.Contains("steps_total 7\n", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScrapeAsync_NoMeterProvider_ReturnsNull()
    {
        using var exporter = new PrometheusTextExporter();

        Assert.Null(await exporter.ScrapeAsync(CancellationToken.None));
    }
}
