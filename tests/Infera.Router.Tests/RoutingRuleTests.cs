using Infera.Remote;

namespace Infera.Tests;

public sealed class RoutingRuleTests
{
    private static readonly string[] Three = ["http://a:1", "http://b:1", "http://c:1"];

    [Fact]
    public void Choose_SameKey_SameCandidateWhileLoadIsWithinTheThreshold()
    {
        var rule = new LeastLoadAffinityRule(balanceThreshold: 4);
        var key = PromptAffinity.OfPrompt("Once upon a time");
        int chosen = rule.Choose(Three, c => c, _ => 0, key);

        Assert.Equal(chosen, rule.Choose(Three, c => c, c => c == Three[chosen] ? 4 : 0, key));
        Assert.NotEqual(chosen, rule.Choose(Three, c => c, c => c == Three[chosen] ? 5 : 0, key));
    }

    [Fact]
    public void Choose_CandidateLeaves_KeysOfTheOthersStay()
    {
        var rule = new LeastLoadAffinityRule();
        for (int i = 0; i < 200; i++)
        {
            var key = PromptAffinity.OfPrompt($"prompt {i}");
            var chosen = Three[rule.Choose(Three, c => c, _ => 0, key)];
            var gone = Three.First(c => c != chosen);
            var rest = Three.Where(c => c != gone).ToArray();

            Assert.Equal(chosen, rest[rule.Choose(rest, c => c, _ => 0, key)]);
        }
    }

    [Fact]
    public void Choose_ManyKeys_SpreadOverTheCandidates()
    {
        var rule = new LeastLoadAffinityRule();
        var counts = new int[3];
        for (int i = 0; i < 3000; i++)
        {
            counts[rule.Choose(Three, c => c, _ => 0, PromptAffinity.OfPrompt($"a conversation that starts with {i}"))]++;
        }

        Assert.All(counts, n => Assert.InRange(n, 800, 1200));
    }

    [Fact]
    public void Choose_NoKey_LeastLoaded()
    {
        var rule = new LeastLoadAffinityRule();
        var loads = new Dictionary<string, int> { [Three[0]] = 3, [Three[1]] = 1, [Three[2]] = 2 };

        Assert.Equal(1, rule.Choose(Three, c => c, c => loads[c], affinityKey: null));
        Assert.Equal(-1, rule.Choose(Array.Empty<string>(), c => c, _ => 0, null));
    }

    [Fact]
    public void OfMessages_LaterTurnsOfAConversation_SameKey()
    {
        (string, string?)[] first = [("system", "Be brief."), ("user", "Hi")];
        (string, string?)[] third = [("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello!"), ("user", "Tell me more."), ("assistant", "..."), ("user", "Thanks")];

        Assert.Equal(PromptAffinity.OfMessages(first), PromptAffinity.OfMessages(third));
        Assert.NotEqual(PromptAffinity.OfMessages(first), PromptAffinity.OfMessages([("system", "Be brief."), ("user", "Hello")]));
        Assert.Null(PromptAffinity.OfMessages(first, prefixChars: 0));
        Assert.Equal(PromptAffinity.OfPrompt(new string('x', 300) + "a"), PromptAffinity.OfPrompt(new string('x', 300) + "b"));
    }
}
