namespace Infera.Tests;

/// <summary>How many more requests an idle batch worker waits for before its first step.</summary>
public sealed class BatchSchedulerTests
{
    [Theory]
    [InlineData(true, 0, 0, null, int.MaxValue / 2)]
    [InlineData(true, 0, 0, 3, 3)]
    [InlineData(true, 4, 0, 0, 0)]
    [InlineData(false, 4, 1, null, 3)]
    [InlineData(false, 4, 1, 2, 2)]
    [InlineData(false, 4, 1, 0, 0)]
    [InlineData(false, 1, 4, 5, 0)]
    public void Expected_NeverMoreThanTheRunnerCanStillAdmit(bool burst, int recentCompletions, int recentSubmissions, int? freeSlots, int expected)
    {
        Assert.Equal(expected, BatchScheduler.Expected(burst, recentCompletions, recentSubmissions, freeSlots));
    }

    [Fact]
    public async Task Runner_TellsItsSchedulerItsFreeSlots()
    {
        await using var runner = await OnnxModelRunner.LoadAsync(TestModels.Get(TestModels.Stories260KGqa), new OnnxModelRunnerOptions { IntraOpThreads = 1, MaxConcurrentRequests = 8 });
        var scheduler = runner.Scheduler!;
        Assert.Equal(8, scheduler.FreeSlots!());

        // A request held after its first token occupies one slot until its reader lets go.
        await using (var held = runner.GenerateAsync(new GenerationRequest("Once upon a time", new GenerationOptions { Temperature = 0, MaxNewTokens = 100 })).GetAsyncEnumerator())
        {
            Assert.True(await held.MoveNextAsync());
            Assert.Equal(7, scheduler.FreeSlots!());
        }

        Assert.Equal(8, scheduler.FreeSlots!());
    }
}
