namespace Infera.Numerics.Tests;

public sealed class KernelTests
{
    [Fact]
    public void ScaledExp_EveryLength_MatchesReference() => Assert.Empty(KernelChecks.ScaledExp());

    [Fact]
    public void ExpSum_EveryLength_MatchesReference() => Assert.Empty(KernelChecks.ExpSum());

    [Fact]
    public void SamplingWeights_EveryLength_WithinBoundAndSameBitsAsScalar() => Assert.Empty(KernelChecks.SamplingWeights());

    [Fact]
    public void Max_EveryLength_MatchesReference() => Assert.Empty(KernelChecks.Max());

    [Fact]
    public void ArgMax_EveryLength_MatchesReferenceWithTiesToLowestIndex() => Assert.Empty(KernelChecks.ArgMax());

    [Fact]
    public void FirstGreater_EveryLength_MatchesReference() => Assert.Empty(KernelChecks.FirstGreater());

    [Fact]
    public void SumAtLeast_EveryLength_MatchesReference() => Assert.Empty(KernelChecks.SumAtLeast());

    [Fact]
    public void ScaledExp_PartlyOverlappingDestination_Throws()
    {
        var buffer = new float[64];
        Assert.Throws<ArgumentException>(() => ScaledExpKernel.Compute(buffer.AsSpan(0, 32), 0f, 1f, buffer.AsSpan(1, 32)));
    }
}
