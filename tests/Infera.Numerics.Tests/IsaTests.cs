using System.Diagnostics;

namespace Infera.Numerics.Tests;

/// <summary>
/// Re-runs every kernel check in a child process of this test assembly with a vector ISA disabled, so the
/// Vector128 and scalar paths are exercised even on machines with AVX2 or AVX-512, and checks that sampled tokens
/// and quantized bytes equal the in-process results.
/// </summary>
public sealed class IsaTests
{
    private static readonly Lazy<(string Tokens, string Quantized)> InProcess =
        new(() => (IsaDigests.SampledTokens(), IsaDigests.Quantized()));

    // .NET 10 folded AVX512F/BW/CD/DQ/VL into one knob, EnableAVX512; the old EnableAVX512F is no longer read and
    // leaves Vector512 accelerated. On a machine without AVX-512 the child runs the same 256-bit path as this process.
    [Theory]
    [InlineData("DOTNET_EnableAVX512", "v512=False")]
    [InlineData("DOTNET_EnableAVX2", "v256=False")]
    [InlineData("DOTNET_EnableHWIntrinsic", "v128=False")]
    public async Task Kernels_IsaDisabled_MatchReferencesAndInProcessResults(string variable, string expectedIsa)
    {
        var assembly = typeof(IsaTests).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add("isa-check");
        start.Environment[variable] = "0";
        // Tiered compilation would run the scalar loops in tier 0 for most of this short process.
        start.Environment["DOTNET_TieredPGO"] = "0";
        start.Environment["DOTNET_TC_QuickJitForLoops"] = "0";

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{string.Join('\n', lines)}\n{await error}");
        Assert.Contains(expectedIsa, lines.Single(l => l.StartsWith("ISA ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(InProcess.Value.Tokens, lines.Single(l => l.StartsWith("TOKENS ", StringComparison.Ordinal))["TOKENS ".Length..]);
        Assert.Equal(InProcess.Value.Quantized, lines.Single(l => l.StartsWith("QUANTIZED ", StringComparison.Ordinal))["QUANTIZED ".Length..]);
    }
}
