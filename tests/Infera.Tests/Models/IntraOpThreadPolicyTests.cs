namespace Infera.Tests.Models;

public sealed class IntraOpThreadPolicyTests
{
    private const long Large = 512L << 20;

    [Fact]
    public void Choose_Requested_WinsOverModelConfig()
    {
        var choice = IntraOpThreadPolicy.Choose(requested: 3, configured: 1, Large, processorCount: 8, batchedEngines: 0);

        Assert.Equal(3, choice.Threads);
        Assert.True(choice.Overlay);
    }

    [Fact]
    public void Choose_ModelConfig_WinsOverDefaultAndIsNotOverlaid()
    {
        var choice = IntraOpThreadPolicy.Choose(requested: null, configured: 6, weightBytes: 1024, processorCount: 8, batchedEngines: 0);

        Assert.Equal(6, choice.Threads);
        Assert.False(choice.Overlay);
        Assert.Contains("genai_config.json", choice.Reason);
    }

    [Fact]
    public void Choose_ModelConfigZero_LeavesOnnxRuntimeDefault()
    {
        var choice = IntraOpThreadPolicy.Choose(requested: null, configured: 0, Large, processorCount: 8, batchedEngines: 0);

        Assert.Null(choice.Threads);
        Assert.False(choice.Overlay);
    }

    [Theory]
    [InlineData(1L << 20, 8, 0, 1)]
    [InlineData(IntraOpThreadPolicy.SmallModelBytes - 1, 8, 2, 1)]
    [InlineData(Large, 8, 0, 8)]
    [InlineData(Large, 8, 1, 8)]
    [InlineData(Large, 8, 2, 4)]
    [InlineData(Large, 2, 4, 1)]
    [InlineData(Large, 1, 0, 1)]
    public void Choose_NoSetting_FollowsModelSizeMachineAndEngines(long weightBytes, int processors, int engines, int expected)
    {
        var choice = IntraOpThreadPolicy.Choose(requested: null, configured: null, weightBytes, processors, engines);

        Assert.Equal(expected, choice.Threads);
        Assert.True(choice.Overlay);
    }

    [Theory]
    [InlineData(4, true, "GroupQueryAttention", 1)]
    [InlineData(8, true, "GroupQueryAttention", 2)]
    [InlineData(8, false, "GroupQueryAttention", 0)]
    [InlineData(8, true, null, 0)]
    public void ForeseeEngines_MatchesBatchingRule(int maxConcurrent, bool batching, string? attention, int expected)
    {
        var options = new OnnxModelRunnerOptions { MaxConcurrentRequests = maxConcurrent, EnableBatching = batching };

        Assert.Equal(expected, IntraOpThreadPolicy.ForeseeEngines(options, attention));
    }
}
