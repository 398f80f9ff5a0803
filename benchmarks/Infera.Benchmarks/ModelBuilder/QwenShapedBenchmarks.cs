using System.Diagnostics;
using System.Globalization;
using Infera.Numerics;
using LLama.Native;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera.Benchmarks.ModelBuilder;

/// <summary>
/// The Qwen2.5-0.5B-shaped int4 comparison with llama.cpp on identical weights, in one process, interleaved:
/// Infera int4 conversions (ONNX Runtime GenAI, <c>MatMulNBits</c>) against llama.cpp Q4_0 (LLamaSharp), greedy decode
/// tokens/s and 512-token prompt processing, plus this machine's memory read bandwidth measured in the same run.
/// </summary>
/// <remarks>
/// Inputs (see <c>../shared/tools/README.md</c>): in <c>--dir</c> (default <c>/tmp/syn</c>) the synthetic llama2.c checkpoint
/// <c>model.bin</c> and its F32 GGUF <c>f32.gguf</c>; the Q4_0 GGUFs are quantized on first use (<c>q4_0.gguf</c>: llama.cpp's
/// default mix, tied embedding/output at Q8_0; <c>q4_0-pure.gguf</c>: every matrix Q4_0). Infera folders: <c>--infera a,b</c>
/// (default: <c>infera-int4-acc4</c> and <c>infera-int4-acc0</c> in <c>--dir</c>, made by <c>infera convert llama2c --precision int4
/// --accuracy-level 4|0</c>).
/// Run: <c>dotnet run -c Release --project benchmarks/Infera.Benchmarks -- model-builder qwen-shape [--runs 3] [--no-pure] [--threads 2]</c>.
/// </remarks>
internal static class QwenShapedBenchmarks
{
    public static Task<int> RunAsync(string[] args)
    {
        string dir = ModelBenchmarks.Option(args, "--dir") ?? "/tmp/syn";
        int runs = int.Parse(ModelBenchmarks.Option(args, "--runs") ?? "3", CultureInfo.InvariantCulture);
        int threads = int.Parse(ModelBenchmarks.Option(args, "--threads") ?? "2", CultureInfo.InvariantCulture);
        int decodeTokens = int.Parse(ModelBenchmarks.Option(args, "--decode") ?? "64", CultureInfo.InvariantCulture);
        int promptTokens = int.Parse(ModelBenchmarks.Option(args, "--prompt") ?? "512", CultureInfo.InvariantCulture);
        int blockSize = int.Parse(ModelBenchmarks.Option(args, "--block-size") ?? "32", CultureInfo.InvariantCulture);
        bool pure = !args.Contains("--no-pure");
        var inferaFolders = (ModelBenchmarks.Option(args, "--infera") ?? string.Join(',', Path.Combine(dir, "infera-int4-acc4"), Path.Combine(dir, "infera-int4-acc0")))
            .Split(',', StringSplitOptions.RemoveEmptyEntries).Where(Directory.Exists).ToArray();
        string checkpoint = Path.Combine(dir, "model.bin");
        string f32 = Path.Combine(dir, "f32.gguf");
        if (!File.Exists(checkpoint) || !File.Exists(f32) || inferaFolders.Length == 0)
        {
            Console.Error.WriteLine($"qwen-shape: needs {checkpoint}, {f32} and an Infera int4 folder (see ../shared/tools/README.md).");
            return Task.FromResult(1);
        }

        try
        {
            NativeLibraryConfig.All.WithLogCallback((level, message) =>
            {
                if (level == LLamaLogLevel.Error)
                {
                    Console.Error.Write(message);
                }
            });
        }
        catch (InvalidOperationException)
        {
            // The native library is loaded already (the gguf mode quantized first): its logging stays as it is.
        }
        NativeApi.llama_empty_call();

        var ggufs = new List<(string Name, string Path)> { ("llama.cpp Q4_0", Path.Combine(dir, "q4_0.gguf")) };
        if (pure)
        {
            ggufs.Add(("llama.cpp Q4_0 pure", Path.Combine(dir, "q4_0-pure.gguf")));
        }

        foreach (var (name, path) in ggufs)
        {
            if (!File.Exists(path))
            {
                var watch = Stopwatch.StartNew();
                LlamaCppEngine.Quantize(f32, path, LLamaFtype.MOSTLY_Q4_0, pure: name.EndsWith("pure", StringComparison.Ordinal), threads);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"quantized {Path.GetFileName(path)} in {watch.Elapsed.TotalSeconds:F1} s"));
            }
        }

        var header = ReadHeader(checkpoint);
        double inferaBytes = InferaWeightBytesPerToken(header, blockSize);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"model: dim {header.Dim}, hidden {header.Hidden}, layers {header.Layers}, heads {header.Heads}/{header.KvHeads}, vocab {header.Vocab}; {threads} threads; prompt {promptTokens} tokens; decode {decodeTokens} tokens after a 16-token prompt; {runs} interleaved runs, medians"));
        Console.WriteLine($"machine: {MachineDescription.Cpu()}, {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {MachineDescription.LoadAverage()}");
        Console.WriteLine($"instruction sets: {MachineDescription.InstructionSets()}");

        var bandwidth = new MemoryBandwidth(1L << 30);
        var bandwidthSamples = new Dictionary<int, List<double>> { [1] = [], [2] = [] };
        void MeasureBandwidth()
        {
            foreach (int t in new[] { 1, 2 })
            {
                for (int i = 0; i < 3; i++)
                {
                    bandwidthSamples[t].Add(bandwidth.Measure(t));
                }
            }
        }

        MeasureBandwidth();

        var random = new Random(42);
        int[] longPrompt = Enumerable.Range(0, promptTokens).Select(_ => random.Next(3, header.Vocab)).ToArray();
        int[] shortPrompt = longPrompt[..16];

        var engines = new List<(string Name, double BytesPerToken, Func<int[], double> Prompt, Func<List<int>?, double> Decode, IDisposable Owner)>();
        try
        {
            foreach (var (name, path) in ggufs)
            {
                var engine = new LlamaCppEngine(path, threads, (uint)(promptTokens + decodeTokens + 32));
                engines.Add((name, engine.SizeInBytes, engine.Prompt, g => engine.Decode(shortPrompt, decodeTokens, g), engine));
            }

            foreach (var folder in inferaFolders)
            {
                var model = ModelBuilderModelBenchmarks.Load(folder, threads);
                engines.Add(($"Infera int4 ({Path.GetFileName(folder)})", inferaBytes, p => InferaPrompt(model, p), g => InferaDecode(model, shortPrompt, decodeTokens, g), model));
            }

            var greedy = new Dictionary<string, List<int>>();
            foreach (var engine in engines)
            {
                var tokens = new List<int>();
                engine.Prompt(longPrompt[..64]); // warm-up
                engine.Decode(tokens);
                greedy[engine.Name] = tokens;
                Console.WriteLine($"  warmed up {engine.Name}");
            }

            var prompt = engines.ToDictionary(e => e.Name, _ => new List<double>());
            var decode = engines.ToDictionary(e => e.Name, _ => new List<double>());
            var total = Stopwatch.StartNew();
            for (int r = 0; r < runs; r++)
            {
                foreach (var engine in engines)
                {
                    prompt[engine.Name].Add(engine.Prompt(longPrompt));
                    decode[engine.Name].Add(engine.Decode(null));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  run {r + 1}: {engine.Name,-36} prompt {prompt[engine.Name][^1],6:F1} tok/s, decode {decode[engine.Name][^1],5:F1} tok/s"));
                }
            }

            MeasureBandwidth();
            double bw1 = ModelBenchmarks.Median(bandwidthSamples[1]);
            double bw2 = ModelBenchmarks.Median(bandwidthSamples[2]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"memory read bandwidth (sum over {bandwidth.Bytes / 1e9:F2} GB, median of 6): 1 thread {bw1:F1} GB/s, 2 threads {bw2:F1} GB/s (runs took {total.Elapsed.TotalSeconds:F0} s)"));
            Console.WriteLine();
            Console.WriteLine("| engine | prompt 512 tok/s (min–max) | vs Q4_0 | decode tok/s (min–max) | vs Q4_0 | bytes/token | effective GB/s | of 2-thread bandwidth |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            string reference = engines[0].Name;
            double referencePrompt = ModelBenchmarks.Median(prompt[reference]);
            double referenceDecode = ModelBenchmarks.Median(decode[reference]);
            foreach (var engine in engines)
            {
                double p = ModelBenchmarks.Median(prompt[engine.Name]);
                double d = ModelBenchmarks.Median(decode[engine.Name]);
                double effective = engine.BytesPerToken * d / 1e9;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {engine.Name} | {p:F1} ({prompt[engine.Name].Min():F1}–{prompt[engine.Name].Max():F1}) | {p / referencePrompt:F2}× | {d:F1} ({decode[engine.Name].Min():F1}–{decode[engine.Name].Max():F1}) | {d / referenceDecode:F2}× | {engine.BytesPerToken / 1e6:F0} MB | {effective:F1} | {effective / bw2:P0} |"));
            }

            Console.WriteLine();
            Console.WriteLine("first greedy tokens after the 16-token prompt:");
            foreach (var (name, tokens) in greedy)
            {
                int agree = tokens.Zip(greedy[reference]).TakeWhile(p => p.First == p.Second).Count();
                Console.WriteLine($"  {name,-36} {string.Join(' ', tokens.Take(8))}  (same as {reference} for the first {agree})");
            }
        }
        finally
        {
            foreach (var engine in engines)
            {
                engine.Owner.Dispose();
            }
        }

        return Task.FromResult(0);
    }

    private static double InferaPrompt(Model model, int[] prompt)
    {
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", prompt.Length + 1);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Generator(model, parameters);
        var watch = Stopwatch.StartNew();
        generator.AppendTokens(prompt);
        return prompt.Length / watch.Elapsed.TotalSeconds;
    }

    private static double InferaDecode(Model model, int[] prompt, int tokens, List<int>? generated)
    {
        int length = prompt.Length + tokens + 1;
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", length);
        parameters.SetSearchOption("min_length", length); // no end-of-sequence stop: random weights
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Generator(model, parameters);
        generator.AppendTokens(prompt);
        generator.GenerateNextToken(); // picks from the prompt's logits; each later call runs one forward pass
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < tokens; i++)
        {
            generator.GenerateNextToken();
        }

        double rate = tokens / watch.Elapsed.TotalSeconds;
        generated?.AddRange(generator.GetSequence(0).ToArray().Skip(prompt.Length));
        return rate;
    }

    /// <summary>Bytes of the int4 matrices read per decoded token: every layer's projections and the tied head (codes + float scales).</summary>
    private static double InferaWeightBytesPerToken(Header h, int blockSize)
    {
        int headSize = h.Dim / h.Heads;
        (int N, int K)[] layer = [(h.Dim, h.Dim), (h.KvHeads * headSize, h.Dim), (h.KvHeads * headSize, h.Dim), (h.Dim, h.Dim), (h.Hidden, h.Dim), (h.Hidden, h.Dim), (h.Dim, h.Hidden)];
        static double Bytes(int n, int k, int block)
        {
            var layout = new MatMulNBitsLayout(n, k, 4, block);
            return layout.PackedLength + (4.0 * layout.ScaleCount);
        }

        return (h.Layers * layer.Sum(m => Bytes(m.N, m.K, blockSize))) + Bytes(h.Vocab, h.Dim, blockSize) + (h.Dim * 4.0);
    }

    private static Header ReadHeader(string checkpoint)
    {
        using var reader = new BinaryReader(File.OpenRead(checkpoint));
        int[] v = Enumerable.Range(0, 7).Select(_ => reader.ReadInt32()).ToArray();
        return new Header(v[0], v[1], v[2], v[3], v[4], Math.Abs(v[5]));
    }

    private sealed record Header(int Dim, int Hidden, int Layers, int Heads, int KvHeads, int Vocab);
}
