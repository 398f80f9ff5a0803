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
/// <remarks>Usage: <c>generation [--model DIR] [--tokens N] [--runs R] [--warmup W] [--threads T]</c>. All use greedy search; without <c>--threads</c> each runs with its own default thread count (GenAI: nothing overlaid; Infera: its choice for the model), with it all use T.</remarks>
public static class GenerationBenchmark
{
    private const string Prompt = "Once upon a time";

    public static async Task<int> RunAsync(string[] args)
    {
        var model = ModelBenchmarks.Option(args, "--model") ?? Path.Combine(ModelBenchmarks.SharedModels(), "stories260K-onnx");
        var tokens = int.Parse(ModelBenchmarks.Option(args, "--tokens") ?? "200", CultureInfo.InvariantCulture);
        var runs = int.Parse(ModelBenchmarks.Option(args, "--runs") ?? "15", CultureInfo.InvariantCulture);
        // Without --threads every contestant runs with its own defaults: GenAI's (nothing overlaid) and Infera's choice.
        int? threads = ModelBenchmarks.Option(args, "--threads") is { } t ? int.Parse(t, CultureInfo.InvariantCulture) : null;
        var warmup = int.Parse(ModelBenchmarks.Option(args, "--warmup") ?? "50", CultureInfo.InvariantCulture);
        var overlay = threads is int n ? "{\"model\":{\"decoder\":{\"session_options\":{\"intra_op_num_threads\":" + n.ToString(CultureInfo.InvariantCulture) + "}}}}" : null;

        await using var runner = await OnnxModelRunner.LoadAsync(model, new OnnxModelRunnerOptions { IntraOpThreads = threads });
        using var infera = new InferaChatClient(runner);

        using var config = new Config(model);
        if (overlay is not null)
        {
            config.Overlay(overlay);
        }

        using var plainModel = new Model(config);
        using var plainTokenizer = new Tokenizer(plainModel);
        plainTokenizer.UpdateOptions(new Dictionary<string, string> { ["add_special_tokens"] = "true" });

        using var genAIConfig = new Config(model);
        if (overlay is not null)
        {
            genAIConfig.Overlay(overlay);
        }

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
        var baseCpu = ModelBenchmarks.Median(baseline.Select(s => s.CpuMicrosecondsPerToken));
        var baseMicros = 1e6 / baseDecode;
        Console.WriteLine($"model: {Path.GetFileName(model)}, {tokens} new tokens, greedy, {(threads is int c ? c.ToString(CultureInfo.InvariantCulture) : "default")} thread(s) (Infera: {runner.Metadata.IntraOpThreads}, {runner.IntraOpThreadsReason}), {runs} interleaved runs (order shuffled) after {warmup} warm-up rounds; medians");
        Console.WriteLine();
        Console.WriteLine("Ratios: of the medians, and (paired) the median over rounds of each round's ratio to the baseline of that round.");
        Console.WriteLine();
        Console.WriteLine("Decode µs/token is wall time per token after the first; median step µs is the median gap between consecutive tokens (what a token costs when no other process takes the core; Δ is the median over rounds of the round's difference to the baseline: the time a contestant adds per token); CPU µs/token is the process's processor time per token over the whole run; each with its difference to the baseline (Δ).");
        Console.WriteLine();
        Console.WriteLine("| contestant | tokens | decode tokens/s | ratio | paired ratio | decode µs/token | Δ | median step µs | paired Δ | CPU µs/token | Δ | time to first token (ms) | ratio | paired ratio | bytes allocated / token |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (name, _) in contestants)
        {
            var list = samples[name];
            var decode = ModelBenchmarks.Median(list.Select(s => s.DecodeTokensPerSecond));
            var ttft = ModelBenchmarks.Median(list.Select(s => s.TimeToFirstTokenMs));
            var bytes = ModelBenchmarks.Median(list.Select(s => s.BytesPerToken));
            var cpu = ModelBenchmarks.Median(list.Select(s => s.CpuMicrosecondsPerToken));
            var micros = 1e6 / decode;
            var pairedDecode = ModelBenchmarks.Median(list.Zip(baseline, (s, b) => s.DecodeTokensPerSecond / b.DecodeTokensPerSecond));
            var pairedTtft = ModelBenchmarks.Median(list.Zip(baseline, (s, b) => s.TimeToFirstTokenMs / b.TimeToFirstTokenMs));
            var step = ModelBenchmarks.Median(list.Select(s => s.MedianStepMicroseconds));
            var pairedStep = ModelBenchmarks.Median(list.Zip(baseline, (s, b) => s.MedianStepMicroseconds - b.MedianStepMicroseconds));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {list[0].Tokens} | {decode:F0} | {decode / baseDecode:F3} | {pairedDecode:F3} | {micros:F1} | {micros - baseMicros:+0.0;-0.0} | {step:F1} | {pairedStep:+0.0;-0.0} | {cpu:F1} | {cpu - baseCpu:+0.0;-0.0} | {ttft:F3} | {ttft / baseTtft:F3} | {pairedTtft:F3} | {bytes:F0} |"));
        }

        return 0;
    }

    private static Sample PlainLoop(Model model, Tokenizer tokenizer, int tokens)
    {
        var cpu = ProcessorTime();
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
        var steps = new Steps(tokens);
        while (!generator.IsDone())
        {
            generator.GenerateNextToken();
            text += stream.Decode(generator.GetNextTokens()[0]).Length;
            steps.Token();
            if (count++ == 0)
            {
                first = clock.Elapsed;
            }
        }

        var last = clock.Elapsed;
        GC.KeepAlive(text);
        return new Sample(count, first.TotalMilliseconds, (count - 1) / (last - first).TotalSeconds, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)count, (ProcessorTime() - cpu).TotalMicroseconds / count, steps.Median());
    }

    private static async Task<Sample> Stream(IChatClient client, ChatOptions options)
    {
        var cpu = ProcessorTime();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        TimeSpan first = default, last = default;
        var updates = 0;
        long? outputTokens = null;
        var steps = new Steps(options.MaxOutputTokens ?? 256);
        await foreach (var update in client.GetStreamingResponseAsync(Prompt, options))
        {
            steps.Token();
            if (updates++ == 0)
            {
                first = clock.Elapsed;
            }

            last = clock.Elapsed;
            outputTokens = update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details.OutputTokenCount ?? outputTokens;
        }

        // GenAI's chat client reports no usage; count its updates (one per token) instead.
        var count = (int)(outputTokens ?? updates);
        return new Sample(count, first.TotalMilliseconds, (count - 1) / (last - first).TotalSeconds, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)count, (ProcessorTime() - cpu).TotalMicroseconds / count, steps.Median());
    }

    private static async Task<Sample> Tokens(IModelRunner runner, int tokens)
    {
        var cpu = ProcessorTime();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        TimeSpan first = default, last = default;
        var count = 0;
        var steps = new Steps(tokens);
        var characters = 0;
        await foreach (var update in runner.GenerateAsync(new GenerationRequest(Prompt, new GenerationOptions { Temperature = 0, MaxNewTokens = tokens })))
        {
            steps.Token();
            characters += update.Text.Length;
            if (count++ == 0)
            {
                first = clock.Elapsed;
            }

            last = clock.Elapsed;
        }

        GC.KeepAlive(characters);
        return new Sample(count, first.TotalMilliseconds, (count - 1) / (last - first).TotalSeconds, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)count, (ProcessorTime() - cpu).TotalMicroseconds / count, steps.Median());
    }

    private readonly record struct Sample(int Tokens, double TimeToFirstTokenMs, double DecodeTokensPerSecond, double BytesPerToken, double CpuMicrosecondsPerToken, double MedianStepMicroseconds);

    /// <summary>Per-token arrival times of one run: the median gap between consecutive tokens after the first.</summary>
    private sealed class Steps(int capacity)
    {
        private readonly List<double> _gaps = new(capacity);
        private long _last;

        public void Token()
        {
            var now = Stopwatch.GetTimestamp();
            if (_last != 0)
            {
                _gaps.Add(Stopwatch.GetElapsedTime(_last, now).TotalMicroseconds);
            }

            _last = now;
        }

        public double Median() => ModelBenchmarks.Median(_gaps);
    }

    // The process's processor time at microsecond resolution (Process.TotalProcessorTime has the 10 ms of a clock tick on Linux).
    private static TimeSpan ProcessorTime() => Environment.CpuUsage.TotalTime;
}
