using System.Globalization;
using System.Text;
using OpenTelemetry.Metrics;

namespace Infera.Server;

/// <summary>
/// Writes OpenTelemetry metrics in the Prometheus text exposition format, named as OpenTelemetry's Prometheus
/// compatibility specification says: invalid characters become one <c>_</c>, the unit follows the name in words
/// (<c>s</c> → <c>_seconds</c>; annotations such as <c>{request}</c> and the unit <c>1</c> add nothing), monotonic sums end
/// in <c>_total</c>; histograms write cumulative <c>_bucket</c> series with <c>le</c>, then <c>_sum</c> and <c>_count</c>.
/// </summary>
internal sealed class PrometheusTextWriter
{
    private readonly StringBuilder _text = new();

    /// <summary>Appends one metric with all its points.</summary>
    public void Write(Metric metric)
    {
        bool counter = metric.MetricType is MetricType.LongSum or MetricType.DoubleSum;
        bool histogram = metric.MetricType == MetricType.Histogram;
        bool gauge = metric.MetricType is MetricType.LongGauge or MetricType.DoubleGauge or MetricType.LongSumNonMonotonic or MetricType.DoubleSumNonMonotonic;
        if (!counter && !histogram && !gauge)
        {
            // Exponential histograms have no Prometheus text form; Infera configures none.
            return;
        }

        string name = Name(metric.Name, metric.Unit, counter);
        if (!string.IsNullOrEmpty(metric.Description))
        {
            _text.Append("# HELP ").Append(name).Append(' ');
            AppendEscaped(metric.Description, quoted: false);
            _text.Append('\n');
        }

        _text.Append("# TYPE ").Append(name).Append(' ').Append(counter ? "counter" : histogram ? "histogram" : "gauge").Append('\n');
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            if (histogram)
            {
                WriteHistogram(name, point);
                continue;
            }

            double value = metric.MetricType switch
            {
                MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong(),
                MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => point.GetSumDouble(),
                MetricType.LongGauge => point.GetGaugeLastValueLong(),
                _ => point.GetGaugeLastValueDouble(),
            };
            WriteSample(name, string.Empty, point, null, value);
        }

        _text.Append('\n');
    }

    /// <inheritdoc/>
    public override string ToString() => _text.ToString();

    /// <summary>The Prometheus name of an instrument: sanitized, with its unit and, for counters, <c>_total</c>.</summary>
    internal static string Name(string instrument, string? unit, bool counter)
    {
        string name = Sanitize(instrument);
        string suffix = unit is null ? string.Empty : Unit(unit);
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            name += "_" + suffix;
        }

        if (counter && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            name += "_total";
        }

        return name;
    }

    /// <summary>Replaces each run of characters outside <c>[a-zA-Z0-9_:]</c> with one <c>_</c>, and a leading digit with <c>_</c>.</summary>
    internal static string Sanitize(string name)
    {
        var result = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            bool valid = char.IsAsciiLetterOrDigit(c) || c == ':' || c == '_';
            if (result.Length == 0 && char.IsAsciiDigit(c))
            {
                result.Append('_');
            }

            if (valid)
            {
                result.Append(c);
            }
            else if (result.Length == 0 || result[^1] != '_')
            {
                result.Append('_');
            }
        }

        return result.ToString();
    }

    private static string Unit(string unit)
    {
        // Annotations in braces ({request}) are counts: no unit in Prometheus.
        var plain = new StringBuilder(unit.Length);
        int depth = 0;
        foreach (char c in unit)
        {
            if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && depth > 0)
            {
                depth--;
            }
            else if (depth == 0)
            {
                plain.Append(c);
            }
        }

        string text = plain.ToString();
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        string words = slash > 0 && slash < text.Length - 1
            ? Words(text[..slash]) + "_per_" + PerWord(text[(slash + 1)..])
            : Words(text);
        return Sanitize(words).Trim('_');
    }

    private static string Words(string unit) => unit switch
    {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "%" => "percent",
        "1" => string.Empty,
        _ => unit,
    };

    private static string PerWord(string unit) => unit switch
    {
        "s" => "second",
        "min" => "minute",
        "h" => "hour",
        "d" => "day",
        _ => unit,
    };

    private void WriteHistogram(string name, in MetricPoint point)
    {
        long cumulative = 0;
        foreach (var bucket in point.GetHistogramBuckets())
        {
            cumulative += bucket.BucketCount;
            WriteSample(name, "_bucket", point, bucket.ExplicitBound, cumulative);
        }

        WriteSample(name, "_sum", point, null, point.GetHistogramSum());
        WriteSample(name, "_count", point, null, point.GetHistogramCount());
    }

    private void WriteSample(string name, string suffix, in MetricPoint point, double? bound, double value)
    {
        _text.Append(name).Append(suffix);
        bool any = false;
        foreach (var tag in point.Tags)
        {
            _text.Append(any ? ',' : '{').Append(Sanitize(tag.Key)).Append("=\"");
            AppendEscaped(Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? string.Empty, quoted: true);
            _text.Append('"');
            any = true;
        }

        if (bound is { } le)
        {
            _text.Append(any ? ',' : '{').Append("le=\"").Append(Number(le)).Append('"');
            any = true;
        }

        if (any)
        {
            _text.Append('}');
        }

        _text.Append(' ').Append(Number(value)).Append('\n');
    }

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" :
        double.IsNegativeInfinity(value) ? "-Inf" :
        double.IsNaN(value) ? "NaN" :
        value.ToString("R", CultureInfo.InvariantCulture);

    private void AppendEscaped(string text, bool quoted)
    {
        foreach (char c in text)
        {
            switch (c)
            {
                case '\\':
                    _text.Append(@"\\");
                    break;
                case '\n':
                    _text.Append(@"\n");
                    break;
                case '"' when quoted:
                    _text.Append("\\\"");
                    break;
                default:
                    _text.Append(c);
                    break;
            }
        }
    }
}
