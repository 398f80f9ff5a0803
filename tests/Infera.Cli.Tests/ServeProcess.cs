using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Infera.Tests;

/// <summary>A running <c>infera serve</c> (or <c>infera router</c>) process: started with the built executable
/// (<see cref="InferaTool"/>), ready once it prints its serving line, killed with SIGKILL on <see cref="Kill"/> or disposal.</summary>
internal sealed partial class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private ServeProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    /// <summary>Gets the base address it serves, such as <c>http://127.0.0.1:5123</c>.</summary>
    public Uri Url { get; }

    /// <summary>Gets the port it listens on.</summary>
    public int Port => Url.Port;

    /// <summary>Gets whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>infera ARGUMENTS</c> and waits until it prints the line saying where it serves.</summary>
    /// <param name="arguments">The command line after <c>infera</c>, such as <c>serve --model DIR --port 0</c>.</param>
    /// <param name="environment">Extra environment variables.</param>
    /// <returns>The running process.</returns>
    public static async Task<ServeProcess> StartAsync(string arguments, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(InferaTool.Executable, arguments)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = TestModels.RepositoryRoot,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info)!;
        _ = process.StandardOutput.ReadToEndAsync();
        var seen = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            while (await process.StandardError.ReadLineAsync(timeout.Token) is { } line)
            {
                seen.AppendLine(line);
                if (ServingLine().Match(line) is { Success: true } match)
                {
                    var started = new ServeProcess(process, new Uri(match.Groups[1].Value));
                    started._stderr.Append(seen);

                    // Keep draining stderr so that the process never blocks on a full pipe.
                    _ = started.DrainAsync();
                    return started;
                }
            }
        }
        catch (OperationCanceledException)
        {
            seen.AppendLine("(no serving line within 120 s)");
        }

        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        throw new InvalidOperationException($"infera {arguments} did not start serving: {seen}");
    }

    /// <summary>Returns a TCP port that was free a moment ago, for a process that must keep its port across a restart.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Kills the process with SIGKILL (no shutdown) and waits for it to exit.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }

        _process.WaitForExit();
    }

    /// <summary>Gets what the process wrote to stderr so far.</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private async Task DrainAsync()
    {
        while (await _process.StandardError.ReadLineAsync() is { } line)
        {
            lock (_stderr)
            {
                _stderr.AppendLine(line);
            }
        }
    }

    [GeneratedRegex(@"^infera: (?:serving|routing) .* at (http://[^\s/]+)/v1")]
    private static partial Regex ServingLine();
}
