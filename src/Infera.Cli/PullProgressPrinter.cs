using System.Globalization;
using Infera.Models;

namespace Infera.Cli;

/// <summary>
/// Prints pull and create progress on stderr: one line per step (Ollama's words) and a bar per downloading file or
/// conversion, redrawn in place. When stderr is redirected only the step lines are written (no bars).
/// </summary>
internal sealed class PullProgressPrinter : IProgress<ModelPullProgress>, IDisposable
{
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private readonly object _gate = new();
    private string? _current;
    private int _lastPermille = -1;
    private bool _barOpen;

    public void Report(ModelPullProgress value)
    {
        lock (_gate)
        {
            var key = value.Status + "|" + value.File;
            bool bar = value.Status is "downloading" or "converting" && value.Total is > 0;
            if (key != _current)
            {
                EndBar();
                _current = key;
                _lastPermille = -1;
                if (!bar || !_interactive)
                {
                    Console.Error.WriteLine(value.File is null ? value.Status : $"{value.Status} {value.File}{(value.Total is { } t && value.Status == "downloading" ? " (" + Size(t) + ")" : string.Empty)}");
                }
            }

            if (bar && _interactive)
            {
                int permille = (int)((value.Fraction ?? 0) * 1000);
                if (permille == _lastPermille)
                {
                    return;
                }

                _lastPermille = permille;
                int filled = permille * 30 / 1000;
                var label = value.File is null ? value.Status : $"{value.Status} {Shorten(value.File)}";
                var amounts = value.Status == "downloading" ? $" {Size(value.Completed)}/{Size(value.Total!.Value)}" : string.Empty;
                Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{label} [{new string('#', filled)}{new string(' ', 30 - filled)}] {permille / 10.0,5:0.0}%{amounts}   "));
                _barOpen = true;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            EndBar();
        }
    }

    private void EndBar()
    {
        if (_barOpen)
        {
            Console.Error.WriteLine();
            _barOpen = false;
        }
    }

    private static string Shorten(string path) => path.Length <= 40 ? path : "..." + path[^37..];

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };

    internal static string FormatSize(long bytes) => Size(bytes);
}
