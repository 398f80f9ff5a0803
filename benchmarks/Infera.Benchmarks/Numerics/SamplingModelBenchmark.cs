using System.Diagnostics;
using System.Globalization;
using Infera.ModelBuilder;
using Infera.Numerics;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera.Benchmarks.Numerics;

/// <summary>
/// Who should sample: decode tokens/s through <see cref="OnnxModelRunner"/> with <see cref="SamplingMode.Native"/>
/// (ONNX Runtime GenAI's search) against <see cref="SamplingMode.Infera"/> (logits read into .NET, <see cref="LogitsSampler"/>,
/// token appended), greedy and temperature 0.8 / top-k 40 / top-p 0.9, runs interleaved, medians; plus the time of
/// <see cref="LogitsSampler.Sample"/> alone on the model's own logits against the decode step.
/// </summary>
/// <remarks>
/// Models: a Qwen2.5-0.5B-shaped random-weight model (vocabulary 151,936, hidden 896, 24 layers, 14/2 heads, feed-forward 4864,
/// tied embeddings, int4 block 32), created once with <see cref="SyntheticModel"/> into <c>--dir</c> (default
/// <c>/tmp/infera-sampling-qwen-shape</c>; <c>--hidden</c>/<c>--layers</c>/<c>--intermediate</c> make it smaller), and
/// <c>stories260K-gqa</c> (vocabulary 512) from the shared models.
/// Run: <c>dotnet run -c Release --project benchmarks/Infera.Benchmarks -- sampling [--runs 5] [--tokens 32] [--threads 2]</c>.
/// </remarks>
public static class SamplingModelBenchmark
{
    private static readonly (string Name, GenerationOptions Options, SamplingParameters Parameters)[] Settings =
    [
        ("greedy", new GenerationOptions { Temperature = 0f }, new SamplingParameters { Temperature = 0f }),
        ("T 0.8, top-k 40, top-p 0.9", new GenerationOptions { Temperature = 0.8f, TopK = 40, TopP = 0.9f, Seed = 7 }, new SamplingParameters { Temperature = 0.8f, TopK = 40, TopP = 0.9f, Seed = 7 }),
        ("T 0.8, top-p 0.9 (no top-k)", new GenerationOptions { Temperature = 0.8f, TopP = 0.9f, Seed = 7 }, new SamplingParameters { Temperature = 0.8f, TopP = 0.9f, Seed = 7 }),
    ];

    private const string Prompt = "Once upon a time";

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = int.Parse(ModelBenchmarks.Option(args, "--runs") ?? "5", CultureInfo.InvariantCulture);
        var tokens = int.Parse(ModelBenchmarks.Option(args, "--tokens") ?? "32", CultureInfo.InvariantCulture);
        var smallTokens = int.Parse(ModelBenchmarks.Option(args, "--small-tokens") ?? "200", CultureInfo.InvariantCulture);
        var threads = int.Parse(ModelBenchmarks.Option(args, "--threads") ?? "2", CultureInfo.InvariantCulture);
        var hidden = int.Parse(ModelBenchmarks.Option(args, "--hidden") ?? "896", CultureInfo.InvariantCulture);
        var layers = int.Parse(ModelBenchmarks.Option(args, "--layers") ?? "24", CultureInfo.InvariantCulture);
        var intermediate = int.Parse(ModelBenchmarks.Option(args, "--intermediate") ?? "4864", CultureInfo.InvariantCulture);
        var dir = ModelBenchmarks.Option(args, "--dir") ?? "/tmp/infera-sampling-qwen-shape";
        var large = Path.Combine(dir, $"h{hidden}-l{layers}-i{intermediate}-v151936-int4");
        if (!File.Exists(Path.Combine(large, "genai_config.json")))
        {
            var watch = Stopwatch.StartNew();
            await SyntheticModel.CreateAsync(
                new SyntheticModelOptions
                {
                    HiddenSize = hidden, LayerCount = layers, HeadCount = 14, KeyValueHeadCount = 2, HeadSize = 64,
                    IntermediateSize = intermediate, VocabularySize = 151936, ContextLength = 1024, TiedEmbeddings = true, Seed = 1,
                    ModelId = "qwen2.5-0.5b-shaped-random",
                },
                large,
                new ConversionOptions { Precision = ModelPrecision.Int4 }).ConfigureAwait(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"created {large} in {watch.Elapsed.TotalSeconds:F0} s"));
        }

        Console.WriteLine($"machine: {MachineDescription.Cpu()}, {Environment.ProcessorCount} logical CPUs, {MachineDescription.InstructionSets()}, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {MachineDescription.LoadAverage()}");
        Console.WriteLine($"prompt \"{Prompt}\", up to {tokens} (vocabulary 151,936) or {smallTokens} (stories260K-gqa) new tokens, {threads} threads, {runs} interleaved runs after a warm-up, medians");
        await MeasureAsync(large, tokens, runs, threads).ConfigureAwait(false);
        await MeasureAsync(Path.Combine(ModelBenchmarks.SharedModels(), "stories260K-gqa"), smallTokens, runs, threads).ConfigureAwait(false);

        Console.WriteLine($"load average at the end {MachineDescription.LoadAverage()}");
        return 0;
    }

    private static async Task MeasureAsync(string model, int tokens, int runs, int threads)
    {
        await using var native = await LoadAsync(model, SamplingMode.Native, threads).ConfigureAwait(false);
        await using var infera = await LoadAsync(model, SamplingMode.Infera, threads).ConfigureAwait(false);
        var logits = CaptureLogits(model, threads, out var vocabulary);
        Console.WriteLine();
        Console.WriteLine($"model: {Path.GetFileName(model)} (vocabulary {vocabulary})");
        Console.WriteLine();
        Console.WriteLine("| setting | tokens (Native / Infera) | Native tok/s (min–max) | Infera tok/s (min–max) | Infera / Native | step (Native) | LogitsSampler.Sample | Sample / step |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (name, options, parameters) in Settings)
        {
            var request = options.Clone();
            request.MaxNewTokens = tokens;
            await DecodeAsync(native, request).ConfigureAwait(false); // warm-up
            await DecodeAsync(infera, request).ConfigureAwait(false);
            var nativeRuns = new List<(int Count, double Rate)>();
            var inferaRuns = new List<(int Count, double Rate)>();
            for (var r = 0; r < runs; r++)
            {
                nativeRuns.Add(await DecodeAsync(native, request).ConfigureAwait(false));
                inferaRuns.Add(await DecodeAsync(infera, request).ConfigureAwait(false));
            }

            var nativeRates = nativeRuns.Select(n => n.Rate).ToList();
            var inferaRates = inferaRuns.Select(n => n.Rate).ToList();
            var nativeRate = ModelBenchmarks.Median(nativeRates);
            var inferaRate = ModelBenchmarks.Median(inferaRates);
            var counts = string.Create(CultureInfo.InvariantCulture, $"{ModelBenchmarks.Median(nativeRuns.Select(n => (double)n.Count)):F0} / {ModelBenchmarks.Median(inferaRuns.Select(n => (double)n.Count)):F0}");
            var stepMicroseconds = 1e6 / nativeRate;
            var sampleMicroseconds = SampleTime(parameters, logits);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {name} | {counts} | {nativeRate:F1} ({nativeRates.Min():F1}–{nativeRates.Max():F1}) | {inferaRate:F1} ({inferaRates.Min():F1}–{inferaRates.Max():F1}) | {inferaRate / nativeRate:F3} | {stepMicroseconds / 1000:F2} ms | {sampleMicroseconds:F1} µs | {sampleMicroseconds / stepMicroseconds:P2} |"));
        }
    }

    private static async Task<OnnxModelRunner> LoadAsync(string model, SamplingMode mode, int threads)
    {
        var options = new OnnxModelRunnerOptions { SamplingMode = mode, IntraOpThreads = threads, MaxConcurrentRequests = 1 };

        // One generator per request for both modes, where the runner offers batching, so that only the sampler differs.
        options.GetType().GetProperty("EnableBatching")?.SetValue(options, false);
        return await OnnxModelRunner.LoadAsync(model, options).ConfigureAwait(false);
    }

    /// <summary>
    /// Streams one request; returns the tokens it produced and the decode rate: tokens after the first over the time
    /// from the first to the last (stories260K's steps are short, hence its longer runs: the reader may see tokens in bursts).
    /// </summary>
    private static async Task<(int Count, double Rate)> DecodeAsync(OnnxModelRunner runner, GenerationOptions options)
    {
        var count = 0;
        long first = 0;
        long last = 0;
        await foreach (var update in runner.GenerateAsync(new GenerationRequest(Prompt, options)).ConfigureAwait(false))
        {
            last = Stopwatch.GetTimestamp();
            if (count++ == 0)
            {
                first = last;
            }
        }

        return (count, count < 3 ? double.NaN : (count - 1) / Stopwatch.GetElapsedTime(first, last).TotalSeconds);
    }

    /// <summary>The model's logits after the prompt, to time the sampler on real values.</summary>
    private static float[] CaptureLogits(string model, int threads, out int vocabulary)
    {
        using var config = new Config(model);
        config.Overlay("{\"model\":{\"decoder\":{\"session_options\":{\"intra_op_num_threads\":" + threads.ToString(CultureInfo.InvariantCulture) + "}}}}");
        using var loaded = new Model(config);
        using var tokenizer = new Tokenizer(loaded);
        var prompt = tokenizer.Encode(Prompt)[0].ToArray();
        using var parameters = new GeneratorParams(loaded);
        parameters.SetSearchOption("max_length", prompt.Length + 2);
        using var generator = new Generator(loaded, parameters);
        generator.AppendTokens(prompt);
        using var tensor = generator.GetOutput("logits");
        vocabulary = (int)tensor.Shape()[^1];
        var data = tensor.GetData<float>();
        return data[(data.Length - vocabulary)..].ToArray();
    }

    /// <summary>Median time of one <see cref="LogitsSampler.Sample"/> call (on a fresh copy of the logits, copy not counted).</summary>
    private static double SampleTime(SamplingParameters parameters, float[] logits)
    {
        var sampler = new LogitsSampler(parameters, logits.Length);
        var scratch = new float[logits.Length];
        var times = new double[2001];
        for (var i = -200; i < times.Length; i++)
        {
            logits.CopyTo(scratch, 0);
            var start = Stopwatch.GetTimestamp();
            sampler.Sample(scratch);
            if (i >= 0)
            {
                times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        }

        return ModelBenchmarks.Median(times);
    }
}
