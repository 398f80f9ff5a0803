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
    [InlineData(null, 1L << 20, 2, true, 1, 8)]
    [InlineData(null, 1L << 20, 16, true, 1, 16)]
    [InlineData(null, Large, 8, true, 8, 4)]
    [InlineData(8, Large, 8, true, 4, 8)]
    [InlineData(8, 1L << 20, 8, true, 1, 8)]
    [InlineData(null, Large, 8, false, 8, 4)]
    [InlineData(6, 1L << 20, 2, false, 1, 6)]
    public void Choose_Options_ThreadsAndConcurrencyTogether(int? maxConcurrent, long weightBytes, int processors, bool batched, int threads, int concurrent)
    {
        var options = new OnnxModelRunnerOptions { MaxConcurrentRequests = maxConcurrent };

        var (choice, max) = IntraOpThreadPolicy.Choose(options, configured: null, weightBytes, processors, batched);

        Assert.Equal(threads, choice.Threads);
        Assert.Equal(concurrent, max);
    }

    [Theory]
    [InlineData(true, "GroupQueryAttention", true)]
    [InlineData(false, "GroupQueryAttention", false)]
    [InlineData(true, null, false)]
    [InlineData(true, "MultiHeadAttention", false)]
    public void WillBatch_MatchesBatchingRule(bool batching, string? attention, bool expected)
    {
        var options = new OnnxModelRunnerOptions { EnableBatching = batching };

        Assert.Equal(expected, IntraOpThreadPolicy.WillBatch(options, attention));
    }

    [Theory]
    [InlineData(1, 2, 2, false, "cpu", true)]
    [InlineData(2, 8, 4, false, "cpu", true)]
    [InlineData(1, 2, 0, false, "cpu", false)]
    [InlineData(1, 2, 1, false, "cpu", false)]
    [InlineData(8, 8, 2, false, "cpu", false)]
    [InlineData(1, 2, 2, true, "cpu", false)]
    [InlineData(1, 2, 2, false, "cuda", false)]
    public void TurnsOffCpuArena_OnlyWhenBatchWorkersShareTheProcessorsAndTheModelDoesNotSay(int threads, int processors, int batchWorkers, bool folderSetsArena, string provider, bool expected)
    {
        var choice = new IntraOpThreadChoice(threads, true, "test");

        Assert.Equal(expected, IntraOpThreadPolicy.TurnsOffCpuArena(choice, processors, batchWorkers, folderSetsArena, provider));
    }

    [Fact]
    public void TurnsOffCpuArena_OnnxRuntimeDefaultThreads_KeepsTheArena()
    {
        Assert.False(IntraOpThreadPolicy.TurnsOffCpuArena(new IntraOpThreadChoice(null, false, "default"), 8, batchWorkers: 2, folderSetsArena: false, "cpu"));
    }

    [Fact]
    public void SetsSessionOption_ReadsTheModelFoldersOwnSessionOptions()
    {
        var folder = ModelFolder.Open(TestModels.Get(TestModels.Stories260KGqa));

        Assert.True(folder.SetsSessionOption("log_id"));
        Assert.False(folder.SetsSessionOption("enable_cpu_mem_arena"));
    }
}
