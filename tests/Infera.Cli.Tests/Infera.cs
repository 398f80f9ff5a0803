using System.Diagnostics;

namespace Infera.Tests;

/// <summary>Runs the built <c>infera</c> executable.</summary>
internal static class InferaTool
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    /// <summary>Gets the executable the tests run: the portable build, or the one <c>INFERA_TEST_TOOL</c> names (such as the
    /// natively compiled tool of a platform package, to run the same tests against it).</summary>
    public static string Executable => Environment.GetEnvironmentVariable("INFERA_TEST_TOOL") is { Length: > 0 } tool
        ? tool
        : Path.Combine(TestModels.RepositoryRoot, "src", "Infera.Cli", "bin", Configuration, "net10.0", OperatingSystem.IsWindows() ? "infera.exe" : "infera");

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string arguments, string? stdin = null, IDictionary<string, string>? environment = null, string? executable = null, IEnumerable<string>? unset = null)
    {
        var info = new ProcessStartInfo(executable ?? Executable, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = TestModels.RepositoryRoot,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        foreach (var key in unset ?? [])
        {
            info.Environment.Remove(key);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"infera {arguments} did not finish in time.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
