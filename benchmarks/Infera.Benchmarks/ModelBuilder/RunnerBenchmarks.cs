using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LLama.Native;

namespace Infera.Benchmarks.ModelBuilder;

/// <summary>
/// Infera's runner (<see cref="OnnxModelRunner"/>) against llama.cpp (LLamaSharp) on the same weights, each engine in a
/// fresh child process per round, rounds interleaved: peak resident memory of a short request, cold and warm time to first
/// token, 512-token prompt speed and decode speed, with this machine's instruction sets and memory bandwidth.
/// </summary>
/// <remarks>
/// A child loads the model, then (1) serves a 26-token prompt with 32 new tokens as the process's first request (cold time
/// to first token), and reads its peak resident set (<c>VmHWM</c>) there; (2) serves five distinct 32-token prompts for one
/// token each (warm time to first token, median); (3) decodes 64 tokens after a 16-token prompt, twice (tokens/s after the
/// first token, median); (4) serves three distinct 512-token prompts for one token each (prompt tokens/s, median); and
/// reads the peak resident set again. Random token ids, greedy, the same ids for both engines. An Infera folder may carry
/// runner options after colons, to see what they cost: <c>FOLDER:no-prefix-cache</c> (<c>PrefixCacheBytes</c> 0),
/// <c>FOLDER:no-batching</c> (<c>EnableBatching</c> off). Without <c>--threads</c> Infera's runner chooses its own threads per
/// operator, as for a user (every processor for a model of this size), and llama.cpp gets one thread per processor; each
/// round prints the threads each engine used.
/// Run: <c>dotnet run -c Release --project benchmarks/Infera.Benchmarks -- model-builder runner --infera FOLDER[,FOLDER2]
/// --gguf FILE [--rounds 3] [--threads N] [--context 4096]</c>.
/// </remarks>
internal static class RunnerBenchmarks
{
    private const string ResultPrefix = "RESULT ";

    public static async Task<int> RunAsync(string[] args)
    {
        string dir = ModelBenchmarks.Option(args, "--dir") ?? "/tmp/syn";
        string gguf = ModelBenchmarks.Option(args, "--gguf") ?? Path.Combine(dir, "q4_0.gguf");
        var inferaFolders = (ModelBenchmarks.Option(args, "--infera") ?? Path.Combine(dir, "infera-int4"))
            .Split(',', StringSplitOptions.RemoveEmptyEntries);
        int rounds = int.Parse(ModelBenchmarks.Option(args, "--rounds") ?? "3", CultureInfo.InvariantCulture);
        // Without --threads: Infera's default (the runner's choice) and one llama.cpp thread per processor.
        int? chosenThreads = ModelBenchmarks.Option(args, "--threads") is { } t ? int.Parse(t, CultureInfo.InvariantCulture) : null;
        int threads = chosenThreads ?? Environment.ProcessorCount;
        int context = int.Parse(ModelBenchmarks.Option(args, "--context") ?? "4096", CultureInfo.InvariantCulture);
        string f32 = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(gguf))!, "f32.gguf");
        if (!File.Exists(gguf) && File.Exists(f32))
        {
            NativeApi.llama_empty_call();
            var watch = Stopwatch.StartNew();
            LlamaCppEngine.Quantize(f32, gguf, LLamaFtype.MOSTLY_Q4_0, pure: false, threads);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"quantized {gguf} (llama.cpp Q4_0, default mix) in {watch.Elapsed.TotalSeconds:F1} s"));
        }

        if (!File.Exists(gguf) || inferaFolders.Any(f => !Directory.Exists(f.Split(':')[0])))
        {
            Console.Error.WriteLine($"runner: needs {gguf} and the Infera folders {string.Join(", ", inferaFolders)}.");
            return 1;
        }

        Console.WriteLine($"machine: {MachineDescription.Cpu()}; {Environment.ProcessorCount} logical CPUs; .NET {Environment.Version}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; load average {MachineDescription.LoadAverage()}");
        Console.WriteLine($"instruction sets: {MachineDescription.InstructionSets()}");
        var bandwidth = new MemoryBandwidth(1L << 30);
        var bw = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            bw.Add(bandwidth.Measure(threads));
        }

        GC.KeepAlive(bandwidth);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"memory read bandwidth, {threads} threads: {ModelBenchmarks.Median(bw):F1} GB/s (median of 3)"));
        Console.WriteLine($"{(chosenThreads is null ? $"Infera's default threads, llama.cpp {threads}" : $"{threads} threads")}, context {context}, {rounds} rounds; each engine in a fresh process per round, engines alternating");

        var engines = new List<(string Name, string[] ChildArgs)> { ("llama.cpp " + Path.GetFileNameWithoutExtension(gguf), ["llamacpp", gguf]) };
        // A folder may carry runner options after a colon: FOLDER:no-batching, FOLDER:no-prefix-cache, FOLDER:huge-pages
        // (several: FOLDER:no-batching:no-prefix-cache).
        engines.AddRange(inferaFolders.Select(f => ($"Infera {Path.GetFileName(f.Split(':')[0].TrimEnd('/'))}{string.Concat(f.Split(':').Skip(1).Select(o => " " + o))}", new[] { "infera", f })));
        var results = engines.ToDictionary(e => e.Name, _ => new List<ChildResult>());
        for (int r = 0; r < rounds; r++)
        {
            // Alternate the order each round, so that neither engine always runs right after the other.
            var order = r % 2 == 0 ? engines : Enumerable.Reverse(engines).ToList();
            foreach (var (name, childArgs) in order)
            {
                // Infera without --threads chooses its own; llama.cpp always gets a number.
                string childThreads = chosenThreads is null && childArgs[0] == "infera" ? "default" : threads.ToString(CultureInfo.InvariantCulture);
                var result = await RunChildAsync([.. childArgs, childThreads, context.ToString(CultureInfo.InvariantCulture)]).ConfigureAwait(false);
                results[name].Add(result);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {r + 1}: {name,-32} {result.Threads} threads, peak RSS {result.PeakShortMiB,6:F0} MiB (after 512: {result.PeakAllMiB,5:F0}; after load: peak {result.LoadPeakMiB,5:F0}, resident {result.LoadResidentMiB,5:F0}), load {result.LoadMs,6:F0} ms, TTFT cold {result.ColdTtftMs,6:F1} ms, warm {result.WarmTtftMs,6:F1} ms, prompt {result.PromptTokensPerSecond,6:F1} tok/s, decode {result.DecodeTokensPerSecond,5:F1} tok/s"));
            }
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"medians of {rounds} rounds (ratio: llama.cpp's value over Infera's for times and memory, Infera's over llama.cpp's for speeds; > 1 means Infera is better)"));
        Console.WriteLine("| engine | peak RSS, 26+32 tokens, MiB | ratio | peak RSS after 512-token prompts, MiB | load ms | TTFT cold ms | ratio | TTFT warm (32 tokens) ms | ratio | prompt 512 tok/s | ratio | decode tok/s | ratio |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var reference = results[engines[0].Name];
        double M(List<ChildResult> list, Func<ChildResult, double> f) => ModelBenchmarks.Median(list.Select(f).ToList());
        foreach (var (name, _) in engines)
        {
            var list = results[name];
            double rss = M(list, x => x.PeakShortMiB), cold = M(list, x => x.ColdTtftMs), warm = M(list, x => x.WarmTtftMs);
            double prompt = M(list, x => x.PromptTokensPerSecond), decode = M(list, x => x.DecodeTokensPerSecond);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {name} | {rss:F0} | {M(reference, x => x.PeakShortMiB) / rss:F2}× | {M(list, x => x.PeakAllMiB):F0} | {M(list, x => x.LoadMs):F0} | {cold:F1} | {M(reference, x => x.ColdTtftMs) / cold:F2}× | {warm:F1} | {M(reference, x => x.WarmTtftMs) / warm:F2}× | {prompt:F1} | {prompt / M(reference, x => x.PromptTokensPerSecond):F2}× | {decode:F1} | {decode / M(reference, x => x.DecodeTokensPerSecond):F2}× |"));
        }

        Console.WriteLine($"load average at the end: {MachineDescription.LoadAverage()}");
        return 0;
    }

    /// <summary>With <c>INFERA_BENCH_SMAPS=PREFIX</c> set, copies the child's <c>/proc/self/smaps</c> to PREFIX.STAGE.txt.</summary>
    private static void CopyMemoryMap(string stage)
    {
        if (Environment.GetEnvironmentVariable("INFERA_BENCH_SMAPS") is { Length: > 0 } prefix && File.Exists("/proc/self/smaps"))
        {
            File.WriteAllText($"{prefix}.{stage}.txt", File.ReadAllText("/proc/self/smaps"));
            var gc = GC.GetGCMemoryInfo();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{stage}: GC committed {gc.TotalCommittedBytes >> 20} MiB, heap {gc.HeapSizeBytes >> 20} MiB, allocated {GC.GetTotalMemory(false) >> 20} MiB"));
        }
    }

    /// <summary>The child process: <c>runner-child infera|llamacpp PATH THREADS CONTEXT</c>; THREADS <c>default</c> (Infera only) lets the runner choose.</summary>
    public static async Task<int> ChildAsync(string[] args)
    {
        string engine = args[0];
        string path = args[1];
        int? threads = args[2] == "default" ? null : int.Parse(args[2], CultureInfo.InvariantCulture);
        int context = int.Parse(args[3], CultureInfo.InvariantCulture);
        IChildEngine child = engine == "infera" ? await InferaChild.LoadAsync(path, threads, context).ConfigureAwait(false) : LlamaCppChild.Load(path, threads ?? throw new ArgumentException("llama.cpp needs a thread count."), context);
        var random = new Random(7);
        int[] Tokens(int n) => Enumerable.Range(0, n).Select(_ => random.Next(3, child.Vocabulary)).ToArray();
        double loadPeak = ResidentMiB("VmHWM:"), loadResident = ResidentMiB("VmRSS:");
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"after load: peak {loadPeak:F0} MiB, resident {loadResident:F0} MiB"));
        CopyMemoryMap("load");
        try
        {
            var (coldTtft, _) = child.Generate(Tokens(26), 32);
            double peakShort = ResidentMiB("VmHWM:");
            CopyMemoryMap("short");
            var warm = new List<double>();
            for (int i = 0; i < 5; i++)
            {
                warm.Add(child.Generate(Tokens(32), 1).TtftMs);
            }

            var decode = new List<double>();
            for (int i = 0; i < 2; i++)
            {
                decode.Add(child.Generate(Tokens(16), 65).DecodeTokensPerSecond);
            }

            var prompt = new List<double>();
            for (int i = 0; i < 3; i++)
            {
                prompt.Add(512 / (child.Generate(Tokens(512), 1).TtftMs / 1000));
            }

            var result = new ChildResult(child.LoadMs, coldTtft, ModelBenchmarks.Median(warm), ModelBenchmarks.Median(prompt), ModelBenchmarks.Median(decode), peakShort, ResidentMiB("VmHWM:"), loadPeak, loadResident, child.Threads);
            Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(result));
            return 0;
        }
        finally
        {
            child.Dispose();
        }
    }

    private static async Task<ChildResult> RunChildAsync(string[] childArgs)
    {
        string self = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.FileName = self;
            start.ArgumentList.Add(typeof(RunnerBenchmarks).Assembly.Location);
        }
        else
        {
            start.FileName = self;
        }

        foreach (var a in (string[])["model-builder", "runner-child", .. childArgs])
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the child process");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        string? line = stdout.Split('\n').LastOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"child {string.Join(' ', childArgs)} failed ({process.ExitCode}): {stdout}\n{await stderr.ConfigureAwait(false)}");
        }

        return JsonSerializer.Deserialize<ChildResult>(line[ResultPrefix.Length..])!;
    }

    /// <summary>A /proc/self/status memory line (<c>VmHWM:</c> the peak resident set, <c>VmRSS:</c> the current one), MiB; the peak working set where /proc is missing.</summary>
    private static double ResidentMiB(string key)
    {
        if (File.Exists("/proc/self/status"))
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
                }
            }
        }

        return Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
    }

    internal sealed record ChildResult(double LoadMs, double ColdTtftMs, double WarmTtftMs, double PromptTokensPerSecond, double DecodeTokensPerSecond, double PeakShortMiB, double PeakAllMiB, double LoadPeakMiB, double LoadResidentMiB, int Threads);

    private interface IChildEngine : IDisposable
    {
        double LoadMs { get; }

        int Vocabulary { get; }

        /// <summary>The threads one operator uses (0: the native library's default).</summary>
        int Threads { get; }

        /// <summary>Serves one request; returns the time to the first token and the tokens/s of the tokens after it.</summary>
        (double TtftMs, double DecodeTokensPerSecond) Generate(int[] prompt, int newTokens);
    }

    private sealed class InferaChild : IChildEngine
    {
        private readonly OnnxModelRunner _runner;

        private InferaChild(OnnxModelRunner runner, double loadMs)
        {
            _runner = runner;
            LoadMs = loadMs;
        }

        public double LoadMs { get; }

        public int Vocabulary => _runner.Metadata.VocabularySize;

        public int Threads => _runner.Metadata.IntraOpThreads ?? 0;

        public static async Task<InferaChild> LoadAsync(string folderAndOptions, int? threads, int context)
        {
            var parts = folderAndOptions.Split(':');
            var options = new OnnxModelRunnerOptions { IntraOpThreads = threads, ContextLength = context };
            options.EnableBatching = !parts.Contains("no-batching");
            if (parts.Contains("no-prefix-cache"))
            {
                options.PrefixCacheBytes = 0;
            }

            if (parts.Contains("huge-pages"))
            {
                Environment.SetEnvironmentVariable("INFERA_HUGE_PAGES", "1");
            }

            var watch = Stopwatch.StartNew();
            var runner = await OnnxModelRunner.LoadAsync(parts[0], options).ConfigureAwait(false);
            return new InferaChild(runner, watch.Elapsed.TotalMilliseconds);
        }

        public (double TtftMs, double DecodeTokensPerSecond) Generate(int[] prompt, int newTokens) => GenerateAsync(prompt, newTokens).GetAwaiter().GetResult();

        public void Dispose() => _runner.Dispose();

        private async Task<(double, double)> GenerateAsync(int[] prompt, int newTokens)
        {
            var request = new GenerationRequest(prompt, new GenerationOptions { MaxNewTokens = newTokens, Temperature = 0f, AddSpecialTokens = false, StopTokenIds = [] });
            var watch = Stopwatch.StartNew();
            double first = 0;
            int count = 0;
            await foreach (var update in _runner.GenerateAsync(request).ConfigureAwait(false))
            {
                if (count++ == 0)
                {
                    first = watch.Elapsed.TotalMilliseconds;
                }
            }

            double total = watch.Elapsed.TotalMilliseconds;
            return (first, count > 1 ? (count - 1) / ((total - first) / 1000) : 0);
        }
    }

    private sealed class LlamaCppChild : IChildEngine
    {
        private readonly LlamaCppEngine _engine;

        private LlamaCppChild(LlamaCppEngine engine, double loadMs)
        {
            _engine = engine;
            LoadMs = loadMs;
        }

        public double LoadMs { get; }

        public int Vocabulary => _engine.Vocabulary;

        public int Threads { get; private init; }

        public static LlamaCppChild Load(string gguf, int threads, int context)
        {
            NativeLibraryConfig.All.WithLogCallback((level, message) =>
            {
                if (level == LLamaLogLevel.Error)
                {
                    Console.Error.Write(message);
                }
            });
            var watch = Stopwatch.StartNew();
            NativeApi.llama_empty_call();
            var engine = new LlamaCppEngine(gguf, threads, (uint)context);
            return new LlamaCppChild(engine, watch.Elapsed.TotalMilliseconds) { Threads = threads };
        }

        public (double TtftMs, double DecodeTokensPerSecond) Generate(int[] prompt, int newTokens)
        {
            var (ttft, rate) = _engine.Generate(prompt, newTokens - 1);
            return (ttft, rate);
        }

        public void Dispose() => _engine.Dispose();
    }
}
