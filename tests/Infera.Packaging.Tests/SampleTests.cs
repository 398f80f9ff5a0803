namespace Infera.Tests;

/// <summary>The samples, run as a reader of the README would run them.</summary>
public sealed class SampleTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static string Sample(string name) => Path.Combine(TestModels.RepositoryRoot, "samples", name, "bin", Configuration, "net10.0", name + ".dll");

    [Fact]
    public async Task QuickStart_StreamsACompletionAndItsUsage()
    {
        var (exit, output) = await ProcessRunner.RunAsync("dotnet", $"\"{Sample("QuickStart")}\" \"{TestModels.Get(TestModels.Stories260KOnnx)}\" \"Once upon a time\"", TestModels.RepositoryRoot, TimeSpan.FromMinutes(2));

        Assert.True(exit == 0, output);
        Assert.StartsWith(", there was a little girl named Lily", output);
        Assert.Contains("[5 prompt tokens, 64 generated, finish: length]", output);
    }

    [Fact]
    public async Task DependencyInjection_ResolvesTheClientThroughTheHost()
    {
        var (exit, output) = await ProcessRunner.RunAsync("dotnet", $"\"{Sample("DependencyInjection")}\" --Model \"{TestModels.Get(TestModels.Stories260KOnnx)}\"", TestModels.RepositoryRoot, TimeSpan.FromMinutes(2));

        Assert.True(exit == 0, output);
        Assert.Contains("there was a little girl named Lily", output);
        Assert.Contains("prompt tokens", output);
    }

    [Fact]
    public async Task SwapProvider_CudaWithoutFallback_FailsNamingWhatIsMissing_AndWithFallbackRunsOnCpu()
    {
        var model = TestModels.Get(TestModels.Stories260KOnnx);

        var (exit, output) = await ProcessRunner.RunAsync("dotnet", $"\"{Sample("SwapProvider")}\" --Provider cuda --Model \"{model}\"", TestModels.RepositoryRoot, TimeSpan.FromMinutes(2));
        Assert.Equal(1, exit);
        Assert.Contains("Execution provider 'cuda' is not available", output);

        (exit, output) = await ProcessRunner.RunAsync("dotnet", $"\"{Sample("SwapProvider")}\" --Provider cuda --AllowCpuFallback true --Model \"{model}\"", TestModels.RepositoryRoot, TimeSpan.FromMinutes(2));
        Assert.True(exit == 0, output);
        Assert.Contains("Running on: cpu", output);
    }
}
