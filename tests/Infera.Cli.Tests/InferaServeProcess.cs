using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Infera.Tests;

/// <summary>An <c>infera serve</c> process of the built tool on a free loopback port, killed (with its children) when disposed.</summary>
internal sealed partial class InferaServeProcess : IAsyncDisposable
{
    private readonly Process _process;

    private InferaServeProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    /// <summary>Gets the server's base address, read from its "serving ... at URL/v1" line.</summary>
    public Uri Url { get; }

    /// <summary>Starts <c>infera serve ARGUMENTS --port 0</c> and waits until it serves.</summary>
    public static async Task<InferaServeProcess> StartAsync(string arguments, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(InferaTool.Executable, $"serve {arguments} --port 0")
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
        try
        {
            _ = process.StandardOutput.ReadToEndAsync();
            return new InferaServeProcess(process, await ReadServingUrlAsync(process.StandardError));
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private static async Task<Uri> ReadServingUrlAsync(StreamReader stderr)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var seen = new StringBuilder();
        while (await stderr.ReadLineAsync(timeout.Token) is { } line)
        {
            seen.AppendLine(line);
            if (ServingLine().Match(line) is { Success: true } match)
            {
                // Keep draining stderr so that the server never blocks on a full pipe.
                _ = stderr.ReadToEndAsync(CancellationToken.None);
                return new Uri(match.Groups[1].Value);
            }
        }

        throw new InvalidOperationException("infera serve exited before serving: " + seen);
    }

    [GeneratedRegex(@"^infera: serving .* at (http://127\.0\.0\.1:\d+)/v1")]
    private static partial Regex ServingLine();
}
