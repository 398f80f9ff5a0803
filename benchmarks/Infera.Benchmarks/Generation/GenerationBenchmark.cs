using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera.Benchmarks.Generation;

/// <summary>
/// Infera's streaming chat client against a plain ONNX Runtime GenAI generator loop and GenAI's own
/// <see cref="OnnxRuntimeGenAIChatClient"/>, on one model, in one process: decode tokens/s, time to first token and
/// bytes allocated per token, as medians over interleaved runs.
/// </summary>
/// <remarks>Usage: <c>generation [--model DIR] [--tokens N] [--runs R] [--warmup W] [--threads T]</c>. All three use greedy search and the same thread count.</remarks>
public static class GenerationBenchmark
{
    private const string Prompt = "Once upon a time";

    public static async Task<int> RunAsync(string[] args)
    {
        var model = ModelBenchmarks.Option(args, "--model") ?? Path.Combine(ModelBenchmarks.SharedModels(), "stories260K-onnx");
        var tokens = int.Parse(ModelBenchmarks.Option(args, "--tokens") ?? "200", CultureInfo.InvariantCulture);
        var runs = int.Parse(ModelBenchmarks.Option(args, "--runs") ?? "15", CultureInfo.InvariantCulture);
        var threads = int.Parse(ModelBenchmarks.Option(args, "--threads") ?? "1", CultureInfo.InvariantCulture);
        var warmup = int.Parse(ModelBenchmarks.Option(args, "--warmup") ?? "50", CultureInfo.InvariantCulture);
        var overlay = "{\"model\":{\"decoder\":{\"session_options\":{\"intra_op_num_threads\":" + threads.ToString(CultureInfo.InvariantCulture) + "}}}}";

        await using var runner = await OnnxModelRunner.LoadAsync(model, new OnnxModelRunnerOptions { IntraOpThreads = threads });
        using var infera = new InferaChatClient(runner);

        using var config = new Config(model);
        config.Overlay(overlay);
        using var plainModel = new Model(config);
        using var plainTokenizer = new Tokenizer(plainModel);
        plainTokenizer.UpdateOptions(new Dictionary<string, string> { ["add_special_tokens"] = "true" });

        using var genAIConfig = new Config(model);
        genAIConfig.Overlay(overlay);
        using var genAI = new OnnxRuntimeGenAIChatClient(genAIConfig, ownsConfig: false, new OnnxRuntimeGenAIChatClientOptions { PromptFormatter = (messages, _) => string.Concat(messages.Select(m => m.Text)) });

        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = tokens };
        var contestants = new (string Name, Func<Task<Sample>> Run)[]
        {
            ("ONNX Runtime GenAI generator loop (baseline)", () => Task.FromResult(PlainLoop(plainModel, plainTokenizer, tokens))),
            ("Infera InferaChatClient (streaming)", () => Stream(infera, options)),
            ("Infera IModelRunner (token updates)", () => Tokens(runner, tokens)),
            ("ONNX Runtime GenAI OnnxRuntimeGenAIChatClient", () => Stream(genAI, new ChatOptions { Temperature = 0, MaxOutputTokens = tokens, AdditionalProperties = new() { ["do_sample"] = false } })),
        };

        var samples = contestants.ToDictionary(c => c.Name, _ => new List<Sample>());
        // Warm-up: enough runs that per-request code reaches its optimized (tier-1) JIT version, as in a long-running
        // process; with only a few, the medians measure tier-0 code (≈ 0.4 ms more time to first token here).
        for (var i = 0; i < warmup; i++)
        {
            foreach (var (_, run) in contestants)
            {
                await run();
            }
        }

        // Shuffle the order every round (seeded): each contestant follows each of the others about equally often. Order
        // matters here: the one that runs right after another model instance finds its weights cold in the caches.
        var shuffle = new Random(20261128);
        var order = Enumerable.Range(0, contestants.Length).ToArray();
        for (var i = 0; i < runs; i++)
        {
            shuffle.Shuffle(order);
            foreach (var j in order)
            {
                var (name, run) = contestants[j];
                samples[name].Add(await run());
            }
        }

        var baseline = samples[contestants[0].Name];
        var baseDecode = ModelBenchmarks.Median(baseline.Select(s => s.DecodeTokensPerSecond));
        var baseTtft = ModelBenchmarks.Median(baseline.Select(s => s.TimeToFirstTokenMs));
        Console.WriteLine($"model: {Path.GetFileName(model)}, {tokens} new tokens, greedy, {threads} thread(s), {runs} interleaved runs (order shuffled) after {warmup} warm-up rounds; medians");
        Console.WriteLine();
        Console.WriteLine("Ratios: of the medians, and (paired) the median over rounds of each round's ratio to the baseline of that round.");
        Console.WriteLine();
        Console.WriteLine("| contestant | tokens | decode tokens/s | ratio | paired ratio | time to first token (ms) | ratio | paired ratio | bytes allocated / token |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (name, _) in contestants)
        {
            var list = samples[name];
            var decode = ModelBenchmarks.Median(list.Select(s => s.DecodeTokensPerSecond));
            var ttft = ModelBenchmarks.Median(list.Select(s => s.TimeToFirstTokenMs));
            var bytes = ModelBenchmarks.Median(list.Select(s => s.BytesPerToken));
            var pairedDecode = ModelBenchmarks.Median(list.Zip(baseline, (s, b) => s.DecodeTokensPerSecond / b.DecodeTokensPerSecond));
            var pairedTtft = ModelBenchmarks.Median(list.Zip(baseline, (s, b) => s.TimeToFirstTokenMs / b.TimeToFirstTokenMs));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {list[0].Tokens} | {decode:F0} | {decode / baseDecode:F3} | {pairedDecode:F3} | {ttft:F3} | {ttft / baseTtft:F3} | {pairedTtft:F3} | {bytes:F0} |"));
        }

        return 0;
    }

    private static Sample PlainLoop(Model model, Tokenizer tokenizer, int tokens)
    {
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        using var sequences = tokenizer.Encode(Prompt);
        using var generatorParams = new GeneratorParams(model);
        generatorParams.SetSearchOption("max_length", sequences[0].Length + tokens);
        generatorParams.SetSearchOption("do_sample", false);
        using var generator = new Generator(model, generatorParams);
        using var stream = tokenizer.CreateStream();
        generator.AppendTokens(sequences[0]);
        TimeSpan first = default;
        var count = 0;
        var text = 0;
        while (!generator.IsDone())
        {
            generator.GenerateNextToken();
            text += stream.Decode(generator.GetNextTokens()[0]).Length;
            if (count++ == 0)
            {
                first = clock.Elapsed;
            }
        }

        var last = clock.Elapsed;
        GC.KeepAlive(text);
        return new Sample(count, first.TotalMilliseconds, (count - 1) / (last - first).TotalSeconds, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)count);
    }

    private static async Task<Sample> Stream(IChatClient client, ChatOptions options)
    {
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        TimeSpan first = default, last = default;
        var updates = 0;
        long? outputTokens = null;
        await foreach (var update in client.GetStreamingResponseAsync(Prompt, options))
        {
            if (updates++ == 0)
            {
                first = clock.Elapsed;
            }

            last = clock.Elapsed;
            outputTokens = update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details.OutputTokenCount ?? outputTokens;
        }

        // GenAI's chat client reports no usage; count its updates (one per token) instead.
        var count = (int)(outputTokens ?? updates);
        return new Sample(count, first.TotalMilliseconds, (count - 1) / (last - first).TotalSeconds, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)count);
    }

    private static async Task<Sample> Tokens(IModelRunner runner, int tokens)
    {
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        TimeSpan first = default, last = default;
        var count = 0;
        await foreach (var update in runner.GenerateAsync(new GenerationRequest(Prompt, new GenerationOptions { Temperature = 0, MaxNewTokens = tokens })))
        {
            if (count++ == 0)
            {
                first = clock.Elapsed;
            }

            last = clock.Elapsed;
        }

        return new Sample(count, first.TotalMilliseconds, (count - 1) / (last - first).TotalSeconds, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)count);
    }

    private readonly record struct Sample(int Tokens, double TimeToFirstTokenMs, double DecodeTokensPerSecond, double BytesPerToken);
}
