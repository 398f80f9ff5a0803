using System.Globalization;

namespace Infera.Cli;

/// <summary>A one-line progress bar on stderr for long steps; silent when stderr is redirected or a JSON summary was asked for.</summary>
internal sealed class ConsoleProgressBar : IProgress<double>, IDisposable
{
    private readonly string _label;
    private readonly bool _enabled;
    private readonly object _gate = new();
    private int _lastPercent = -1;

    public ConsoleProgressBar(string label, bool enabled = true)
    {
        _label = label;
        _enabled = enabled && !Console.IsErrorRedirected;
    }

    public void Report(double value)
    {
        if (!_enabled)
        {
            return;
        }

        int percent = (int)Math.Clamp(value * 100, 0, 100);
        lock (_gate)
        {
            if (percent == _lastPercent)
            {
                return;
            }

            _lastPercent = percent;
            int filled = percent * 30 / 100;
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{_label} [{new string('#', filled)}{new string(' ', 30 - filled)}] {percent,3}%"));
        }
    }

    public void Dispose()
    {
        if (_enabled && _lastPercent >= 0)
        {
            Console.Error.WriteLine();
        }
    }
}
