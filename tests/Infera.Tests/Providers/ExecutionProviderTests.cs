namespace Infera.Tests;

public sealed class ExecutionProviderTests
{
    [Fact]
    public void GetAvailability_Cpu_IsAvailableHere()
    {
        var availability = ExecutionProviders.GetAvailability("cpu");

        Assert.True(availability.IsAvailable, availability.Describe());
        Assert.NotEmpty(availability.Probed);
    }

    [Fact]
    public void GetAvailability_CudaWithoutItsNativeRuntime_NamesWhatIsMissingAndWhereItLooked()
    {
        var availability = new CudaExecutionProvider().GetAvailability();

        Assert.False(availability.IsAvailable);
        Assert.Contains("onnxruntime-genai-cuda", availability.Missing);
        Assert.Contains(availability.Probed, p => p.Contains("onnxruntime-genai-cuda", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("directml", "Windows")]
    [InlineData("coreml", "macOS")]
    public void GetAvailability_ProviderForAnotherPlatform_SaysWhichPlatform(string name, string platform)
    {
        var availability = ExecutionProviders.GetAvailability(name);

        Assert.False(availability.IsAvailable);
        Assert.Contains(platform, availability.Missing);
    }

    [Fact]
    public async Task LoadAsync_UnavailableProvider_ThrowsWithoutFallingBack()
    {
        var options = new OnnxModelRunnerOptions { ExecutionProvider = new CudaExecutionProvider(new CudaExecutionProviderOptions { DeviceId = 1 }) };

        var ex = await Assert.ThrowsAsync<ExecutionProviderUnavailableException>(() => OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx), options));

        Assert.Equal("cuda", ex.Availability?.Name);
        Assert.Contains("onnxruntime-genai-cuda", ex.Message);
    }

    [Fact]
    public async Task LoadAsync_UnavailableProviderWithCpuFallback_LoadsOnCpu()
    {
        var options = new OnnxModelRunnerOptions { ExecutionProvider = new CudaExecutionProvider() };
        options.FallbackExecutionProviders.Add(new CpuExecutionProvider());

        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KOnnx), options);

        Assert.Equal("cpu", runner.Metadata.ExecutionProvider);
    }

    [Fact]
    public void Create_ByName_ReturnsTheProviderType()
    {
        Assert.IsType<CpuExecutionProvider>(ExecutionProviders.Create("cpu"));
        Assert.IsType<CudaExecutionProvider>(ExecutionProviders.Create("CUDA"));
        Assert.IsType<DirectMLExecutionProvider>(ExecutionProviders.Create("directml"));
        Assert.IsType<CoreMLExecutionProvider>(ExecutionProviders.Create("coreml"));
        Assert.Throws<ArgumentException>(() => ExecutionProviders.Create("tpu"));
    }

    [Fact]
    public void CudaOptions_NegativeDevice_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CudaExecutionProvider(new CudaExecutionProviderOptions { DeviceId = -1 }));
    }
}
