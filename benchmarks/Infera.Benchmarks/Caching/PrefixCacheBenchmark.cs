using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;

namespace Infera.Benchmarks.Caching;

/// <summary>
/// The prefix cache on the chat client: an 8-turn conversation that resends its history, and several questions after one
/// long shared system prompt, each run with the cache and without it (a second runner on the same model, alternating
/// request by request); time to first token, replies compared token for token.
/// </summary>
/// <remarks>
/// Usage: <c>prefix-cache --model DIR [--runs R] [--reply-tokens N]</c>. The model should have slow prompts, e.g.
/// <c>infera create-model --arch llama --hidden 1024 --layers 8 --heads 16 --kv-heads 4 --intermediate 2816 --vocab 4096
/// --precision int4 --accuracy-level 0 --context 4096 -o DIR</c>.
/// </remarks>
public static class PrefixCacheBenchmark
{
    private const string Words = "the little girl walked to the old house near the river and she saw a small dog that wanted to play with a red ball in the garden while her brother read a book about ships stars and the sea";

    public static async Task<int> RunAsync(string[] args)
    {
        var model = ModelBenchmarks.Option(args, "--model") ?? throw new ArgumentException("--model DIR is required (a model with slow prompts; see the remarks of PrefixCacheBenchmark).");
        var runs = int.Parse(ModelBenchmarks.Option(args, "--runs") ?? "3", CultureInfo.InvariantCulture);
        var replyTokens = int.Parse(ModelBenchmarks.Option(args, "--reply-tokens") ?? "32", CultureInfo.InvariantCulture);

        Console.WriteLine($"machine: {MachineDescription.Cpu()}, {Environment.ProcessorCount} logical CPUs, {MachineDescription.InstructionSets()}; .NET {Environment.Version}; load average at start: {MachineDescription.LoadAverage()}");
        await using var cachedRunner = await OnnxModelRunner.LoadAsync(model, new OnnxModelRunnerOptions());
        await using var plainRunner = await OnnxModelRunner.LoadAsync(model, new OnnxModelRunnerOptions { PrefixCacheBytes = 0 });
        using var cached = new InferaChatClient(cachedRunner);
        using var plain = new InferaChatClient(plainRunner);
        var budget = cachedRunner.PrefixCacheStatistics!.Value.BudgetBytes;
        Console.WriteLine($"model: {Path.GetFileName(model.TrimEnd('/'))}, context {cachedRunner.Metadata.ContextLength}, {cachedRunner.Metadata.IntraOpThreads} threads, {cachedRunner.SchedulingMode}; prefix cache budget {budget / (1 << 20)} MiB (default); greedy, {replyTokens} reply tokens, {runs} runs");

        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = replyTokens };

        // Warm-up on both runners (JIT, first allocations), with text that shares nothing with the measured prompts.
        foreach (var client in new[] { cached, plain })
        {
            await client.GetResponseAsync([new(ChatRole.User, "warm up " + Text(200, 99))], options);
        }

        // 1. An 8-turn conversation resending its history each turn.
        var turnTtft = new List<double>[2][] { NewLists(8), NewLists(8) };
        var identical = true;
        var promptTokens = new int[8];
        var cachedTokens = new List<double>[8];
        for (var t = 0; t < 8; t++)
        {
            cachedTokens[t] = [];
        }

        for (var run = 0; run < runs; run++)
        {
            // Each run's conversation starts differently, so no run reuses another's state.
            List<ChatMessage> withCache = [new(ChatRole.System, $"Conversation {run}. You are a helpful assistant. " + Text(60, run))];
            List<ChatMessage> without = [.. withCache];
            for (var turn = 0; turn < 8; turn++)
            {
                var message = new ChatMessage(ChatRole.User, Text(40, (run * 8) + turn + 1000));
                withCache.Add(message);
                without.Add(message);
                var a = await TimeAsync(cached, withCache, options);
                var b = await TimeAsync(plain, without, options);
                identical &= a.Response.Text == b.Response.Text;
                turnTtft[0][turn].Add(a.TtftMs);
                turnTtft[1][turn].Add(b.TtftMs);
                promptTokens[turn] = (int)(a.Response.Usage?.InputTokenCount ?? 0);
                cachedTokens[turn].Add(a.Response.Usage?.CachedInputTokenCount ?? 0);
                withCache.AddMessages(a.Response);
                without.AddMessages(b.Response);
            }
        }

        Console.WriteLine();
        Console.WriteLine("8-turn conversation (history resent each turn): time to first token, median ms over runs");
        Console.WriteLine("| turn | prompt tokens | cached tokens (median) | with cache | without cache | with/without |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        for (var turn = 0; turn < 8; turn++)
        {
            var w = ModelBenchmarks.Median(turnTtft[0][turn]);
            var wo = ModelBenchmarks.Median(turnTtft[1][turn]);
            Console.WriteLine($"| {turn + 1} | {promptTokens[turn]} | {ModelBenchmarks.Median(cachedTokens[turn]):F0} | {w:F1} | {wo:F1} | {w / wo:F2} |");
        }

        var turn8 = ModelBenchmarks.Median(turnTtft[0][7]) / ModelBenchmarks.Median(turnTtft[0][0]);
        var turn8Plain = ModelBenchmarks.Median(turnTtft[1][7]) / ModelBenchmarks.Median(turnTtft[1][0]);
        Console.WriteLine($"turn 8 / turn 1 time to first token: with cache {turn8:F2}x (target <= 1.5x), without {turn8Plain:F2}x; replies identical with and without cache: {identical}");

        // 2. Six different questions after one shared ~300-token system prompt.
        var questionTtft = new List<double>[2][] { NewLists(6), NewLists(6) };
        var systemTokens = 0;
        for (var run = 0; run < runs; run++)
        {
            var system = SystemPrompt(cachedRunner, run, 300);
            systemTokens = cachedRunner.Tokenizer.Encode(system).Length;
            for (var q = 0; q < 6; q++)
            {
                List<ChatMessage> messages = [new(ChatRole.System, system), new(ChatRole.User, "Question: " + Text(12, (run * 6) + q + 5000))];
                var a = await TimeAsync(cached, messages, options);
                var b = await TimeAsync(plain, messages, options);
                identical &= a.Response.Text == b.Response.Text;
                questionTtft[0][q].Add(a.TtftMs);
                questionTtft[1][q].Add(b.TtftMs);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"6 questions after one shared {systemTokens}-token system prompt: time to first token, median ms over runs");
        Console.WriteLine("| question | with cache | without cache | with/without |");
        Console.WriteLine("| ---: | ---: | ---: | ---: |");
        for (var q = 0; q < 6; q++)
        {
            var w = ModelBenchmarks.Median(questionTtft[0][q]);
            var wo = ModelBenchmarks.Median(questionTtft[1][q]);
            Console.WriteLine($"| {q + 1} | {w:F1} | {wo:F1} | {w / wo:F2} |");
        }

        var later = ModelBenchmarks.Median(questionTtft[0].Skip(1).SelectMany(l => l)) / ModelBenchmarks.Median(questionTtft[1].Skip(1).SelectMany(l => l));
        Console.WriteLine($"questions 2-6, median time to first token with / without cache: {later:F2}x (target <= 0.3x); all replies identical with and without cache: {identical}");
        Console.WriteLine();
        var cache = cachedRunner.PrefixCacheStatistics!.Value;
        Console.WriteLine($"prefix cache: {cache.Hits} hits, {cache.Misses} misses, {cache.HitTokens} hit tokens, {cache.Evictions} evictions, {cache.Sequences} sequences, {cache.Bytes / (1 << 20)} MiB of {cache.BudgetBytes / (1 << 20)} MiB; process working set {Environment.WorkingSet / (1 << 20)} MiB; load average at end: {MachineDescription.LoadAverage()}");
        return identical ? 0 : 1;
    }

    private static List<double>[] NewLists(int count) => [.. Enumerable.Range(0, count).Select(_ => new List<double>())];

    private static async Task<(ChatResponse Response, double TtftMs)> TimeAsync(IChatClient client, List<ChatMessage> messages, ChatOptions options)
    {
        var started = Stopwatch.GetTimestamp();
        double ttft = -1;
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(messages, options))
        {
            if (ttft < 0)
            {
                ttft = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            updates.Add(update);
        }

        return (updates.ToChatResponse(), ttft);
    }

    /// <summary>Seeded word salad of <paramref name="words"/> words.</summary>
    private static string Text(int words, int seed)
    {
        var vocabulary = Words.Split(' ');
        var random = new Random(seed);
        return string.Join(' ', Enumerable.Range(0, words).Select(_ => vocabulary[random.Next(vocabulary.Length)])) + ".";
    }

    /// <summary>A system prompt of about <paramref name="tokens"/> tokens of the model's tokenizer.</summary>
    private static string SystemPrompt(OnnxModelRunner runner, int seed, int tokens)
    {
        var words = 10;
        var text = Text(words, seed + 7000);
        while (runner.Tokenizer.Encode(text).Length < tokens)
        {
            words += 5;
            text = $"System {seed}. " + Text(words, seed + 7000);
        }

        return text;
    }
}
