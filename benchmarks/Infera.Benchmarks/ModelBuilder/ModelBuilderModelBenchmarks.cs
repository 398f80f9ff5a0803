using System.Diagnostics;
using System.Globalization;
using Infera.ModelBuilder;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera.Benchmarks.ModelBuilder;

/// <summary>
/// Model-level benchmarks of converted models, always against a peer in the same run:
/// <c>stories</c>: greedy decode tokens/s of stories260K converted by Infera (fused operators) vs the plain reference conversion
/// (<c>stories260K-onnx</c>) and GenAI-builder-style one (<c>stories260K-gqa</c>), runs interleaved, medians reported.
/// <c>convert</c>: conversion times. Run: <c>dotnet run -c Release --project benchmarks/Infera.Benchmarks -- model-builder stories</c>.
/// </summary>
public static class ModelBuilderModelBenchmarks
{
    public static Task<int> RunAsync(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "stories";
        string models = ModelBenchmarks.SharedModels();
        switch (mode)
        {
            case "stories":
                Stories(models, args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7);
                break;
            case "convert":
                Convert(models);
                break;
            case "qwen-shape":
                return QwenShapedBenchmarks.RunAsync(args[1..]);
            case "gguf":
                return GgufBenchmarks.RunAsync(args[1..]);
            case "runner":
                return RunnerBenchmarks.RunAsync(args[1..]);
            case "runner-child":
                return RunnerBenchmarks.ChildAsync(args[1..]);
            default:
                Console.Error.WriteLine("modes: stories [runs] | convert | qwen-shape ... | gguf ... | runner ...");
                return Task.FromResult(1);
        }

        return Task.FromResult(0);
    }

    private static void Stories(string models, int runs)
    {
        string work = Path.Combine(Path.GetTempPath(), "infera-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            string infera = Path.Combine(work, "stories260K-infera");
            var result = ModelConverter.ConvertLlama2CAsync(Path.Combine(models, "stories260K", "stories260K.bin"), Path.Combine(models, "stories260K", "tok512.bin"), infera).GetAwaiter().GetResult();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"converted stories260K (fp32, fused) in {result.Elapsed.TotalMilliseconds:F0} ms"));
            var candidates = new (string Name, string Path)[]
            {
                ("stories260K-onnx (plain reference)", Path.Combine(models, "stories260K-onnx")),
                ("stories260K-gqa (GenAI-builder style)", Path.Combine(models, "stories260K-gqa")),
                ("Infera.ModelBuilder fp32", infera),
            };
            foreach (int? threads in new int?[] { 1, null })
            {
                Console.WriteLine($"\nthreads: {(threads is int t ? t.ToString(CultureInfo.InvariantCulture) : "ONNX Runtime default")}; greedy, prompt \"Once upon a time\", 256 positions, {runs} interleaved runs, median");
                var loaded = candidates.Select(c => (c.Name, Model: Load(c.Path, threads))).ToList();
                try
                {
                    var samples = loaded.ToDictionary(l => l.Name, _ => new List<double>());
                    foreach (var (_, model) in loaded)
                    {
                        Decode(model); // warm-up
                    }

                    for (int r = 0; r < runs; r++)
                    {
                        foreach (var (name, model) in loaded)
                        {
                            samples[name].Add(Decode(model));
                        }
                    }

                    double baseline = Median(samples[candidates[0].Name]);
                    foreach (var (name, _) in loaded)
                    {
                        double median = Median(samples[name]);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-40} {median,8:F0} tokens/s   {median / baseline,5:F2}x"));
                    }
                }
                finally
                {
                    foreach (var (_, model) in loaded)
                    {
                        model.Dispose();
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    internal static Model Load(string path, int? threads)
    {
        using var config = new Config(path);
        if (threads is int t)
        {
            config.Overlay("{\"model\":{\"decoder\":{\"session_options\":{\"intra_op_num_threads\":" + t.ToString(CultureInfo.InvariantCulture) + "}}}}");
        }

        return new Model(config);
    }

    /// <summary>Greedy decode from "Once upon a time" to 256 positions; returns generated tokens per second after the first.</summary>
    private static double Decode(Model model)
    {
        int[] prompt = [1, 403, 407, 261, 400];
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", 257);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Generator(model, parameters);
        generator.AppendTokens(prompt);
        generator.GenerateNextToken();
        int generated = 0;
        var watch = Stopwatch.StartNew();
        while (!generator.IsDone())
        {
            generator.GenerateNextToken();
            generated++;
        }

        return generated / watch.Elapsed.TotalSeconds;
    }

    private static void Convert(string models)
    {
        string work = Path.Combine(Path.GetTempPath(), "infera-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            foreach (var precision in new[] { ModelPrecision.Float32, ModelPrecision.Float16, ModelPrecision.Int8, ModelPrecision.Int4 })
            {
                var times = new List<double>();
                for (int i = 0; i < 5; i++)
                {
                    var watch = Stopwatch.StartNew();
                    ModelConverter.ConvertLlama2CAsync(Path.Combine(models, "stories260K", "stories260K.bin"), Path.Combine(models, "stories260K", "tok512.bin"), Path.Combine(work, $"{precision}-{i}"), new ConversionOptions { Precision = precision }).GetAwaiter().GetResult();
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stories260K {precision,-8} conversion: first {times[0],6:F0} ms, median of the rest {Median(times.Skip(1)),6:F0} ms"));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    internal static double Median(IEnumerable<double> values) => ModelBenchmarks.Median(values);
}
