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
    /// <param name="executable">The executable to run instead of <see cref="InferaTool.Executable"/>.</param>
    /// <returns>The running process.</returns>
    public static async Task<ServeProcess> StartAsync(string arguments, IDictionary<string, string>? environment = null, string? executable = null)
    {
        var info = new ProcessStartInfo(executable ?? InferaTool.Executable, arguments)
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
        if (await WaitForServingLineAsync(process.StandardError, seen, TimeSpan.FromSeconds(120)) is { } url)
        {
            var started = new ServeProcess(process, url);
            started._stderr.Append(seen);

            // Keep draining stderr so that the process never blocks on a full pipe.
            _ = started.DrainAsync();
            return started;
        }

        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        throw new InvalidOperationException($"infera {arguments} did not start serving: {seen}");
    }

    /// <summary>Reads a started <c>infera serve</c>'s stderr up to the line saying where it serves, then keeps draining it.</summary>
    /// <param name="stderr">The process's standard error.</param>
    /// <returns>The base address it serves.</returns>
    public static async Task<Uri> ReadServingUrlAsync(StreamReader stderr)
    {
        var seen = new StringBuilder();
        if (await WaitForServingLineAsync(stderr, seen, TimeSpan.FromSeconds(120)) is { } url)
        {
            _ = stderr.ReadToEndAsync(CancellationToken.None);
            return url;
        }

        throw new InvalidOperationException("infera serve did not start serving: " + seen);
    }

    private static async Task<Uri?> WaitForServingLineAsync(StreamReader stderr, StringBuilder seen, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (await stderr.ReadLineAsync(timeout.Token) is { } line)
            {
                seen.AppendLine(line);
                if (ServingLine().Match(line) is { Success: true } match)
                {
                    return new Uri(match.Groups[1].Value);
                }
            }
        }
        catch (OperationCanceledException)
        {
            seen.AppendLine($"(no serving line within {within.TotalSeconds:0} s)");
        }

        return null;
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
