namespace Infera.Tests;

public sealed class StopSequenceMatcherTests
{
    [Fact]
    public void Append_StopSplitAcrossPieces_EmitsTextBeforeItOnly()
    {
        var matcher = new StopSequenceMatcher(["<end>"]);

        var emitted = matcher.Append("Hello <e") + matcher.Append("n") + matcher.Append("d> world");

        Assert.Equal("Hello ", emitted);
        Assert.True(matcher.IsStopped);
        Assert.Equal("<end>", matcher.MatchedStopSequence);
        Assert.Equal(string.Empty, matcher.Flush());
    }

    [Fact]
    public void Append_PrefixThatDoesNotComplete_IsReleased()
    {
        var matcher = new StopSequenceMatcher(["<end>"]);

        Assert.Equal("a ", matcher.Append("a <e"));
        Assert.Equal("<ex", matcher.Append("x"));
        Assert.False(matcher.IsStopped);
    }

    [Fact]
    public void Flush_HeldPrefixAtEnd_IsReturned()
    {
        var matcher = new StopSequenceMatcher(["STOP"]);

        Assert.Equal("abc ", matcher.Append("abc ST"));
        Assert.Equal("ST", matcher.Flush());
    }

    [Fact]
    public void Append_EarliestOfSeveralStops_Wins()
    {
        var matcher = new StopSequenceMatcher(["world", "lo w"]);

        Assert.Equal("Hel", matcher.Append("Hello world"));
        Assert.Equal("lo w", matcher.MatchedStopSequence);
    }

    [Fact]
    public void Append_NoStops_PassesThrough()
    {
        var matcher = new StopSequenceMatcher([]);
        Assert.Equal("abc", matcher.Append("abc"));
    }
}
