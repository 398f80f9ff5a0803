namespace Infera.Tests;

public sealed class LoneRequestTests
{
    private static LoneRequest Make(int promptTokens = 10, int maxNewTokens = 100)
    {
        var metadata = new ModelMetadata { ModelId = "m", ModelPath = "m", ModelType = "llama", ContextLength = 512, VocabularySize = 1000, EosTokenIds = [2], ExecutionProvider = "cpu" };
        var request = new GenerationRequest(Enumerable.Range(1, promptTokens).ToArray(), new GenerationOptions { Temperature = 0, MaxNewTokens = maxNewTokens });
        return new LoneRequest(GenerationPlan.Create(request, metadata, null!, SamplingMode.Auto));
    }

    [Theory]
    [InlineData(1L << 20, true)] // stories260K-gqa: prompts cost little
    [InlineData(400L << 20, false)] // a 0.5B int4 model: every row would wait for the moved request's tokens
    public void MovesFor_SmallModelsOnly(long weightBytes, bool moves) => Assert.Equal(moves, LoneRequest.MovesFor(weightBytes));

    [Fact]
    public void AskedThenCommitted_CannotBeWithdrawnAndStaysMoving()
    {
        var lone = Make();
        Assert.True(lone.TryAsk());
        Assert.False(lone.TryAsk());
        Assert.True(lone.IsAsked);
        Assert.True(lone.TryCommit());
        Assert.False(lone.TryWithdraw());
        lone.End();
        Assert.True(lone.IsMoving);
    }

    [Fact]
    public void IsComing_UntilTheMovedJobIsTakenByAWorker()
    {
        var lone = Make();
        Assert.False(lone.IsComing);
        Assert.True(lone.TryAsk());
        Assert.True(lone.IsComing);
        Assert.True(lone.TryCommit());
        Assert.True(lone.IsComing);
        lone.MarkArrived();
        Assert.False(lone.IsComing);

        var ended = Make();
        Assert.True(ended.TryAsk());
        ended.End();
        Assert.False(ended.IsComing);
    }

    [Fact]
    public void AskWithdrawnBeforeTheLoopAnswers_LoopDoesNotMove()
    {
        var lone = Make();
        Assert.True(lone.TryAsk());
        Assert.True(lone.TryWithdraw());
        Assert.False(lone.IsAsked);
        Assert.False(lone.TryCommit());
        Assert.True(lone.TryAsk());
    }

    [Fact]
    public void Ended_CannotBeAskedOrCommitted()
    {
        var asked = Make();
        Assert.True(asked.TryAsk());
        asked.End();
        Assert.False(asked.TryCommit());
        Assert.False(asked.TryWithdraw());
        Assert.False(asked.IsMoving);

        var running = Make();
        running.End();
        Assert.False(running.TryAsk());
    }

    [Theory]
    [InlineData(10, 100, 0, true)] // 10 tokens computed again to save 100
    [InlineData(10, 100, 90, false)] // 100 computed again to save 10
    [InlineData(410, 100, 0, false)] // a long prompt: its kept state is worth more
    [InlineData(10, 100, 99, false)] // one token left
    public void WorthMoving_WhenTheTokensComputedAgainAreUnderAQuarterOfThoseLeft(int prompt, int maxNew, int generated, bool worth)
    {
        var lone = Make(prompt, maxNew);
        for (var i = 0; i < generated; i++)
        {
            lone.OnToken();
        }

        Assert.Equal(worth, lone.WorthMoving);
    }
}
