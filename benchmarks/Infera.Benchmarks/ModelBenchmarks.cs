namespace Infera.Benchmarks;

/// <summary>Model-level benchmarks (tokens/s, time to first token, serving load): each runs a peer in the same process and run.</summary>
public static class ModelBenchmarks
{
    private static readonly Dictionary<string, Func<string[], Task<int>>> Benchmarks = new(StringComparer.OrdinalIgnoreCase)
    {
        ["generation"] = Generation.GenerationBenchmark.RunAsync,
        ["model-builder"] = ModelBuilder.ModelBuilderModelBenchmarks.RunAsync,
        ["sampling"] = Numerics.SamplingModelBenchmark.RunAsync,
        ["structured-output"] = StructuredOutput.StructuredOutputBenchmark.RunAsync,
        ["serving"] = Serving.ServingBenchmark.RunAsync,
        ["router"] = Serving.RouterBenchmark.RunAsync,
        ["prefix-cache"] = Caching.PrefixCacheBenchmark.RunAsync,
    };

    public static Func<string[], Task<int>>? Find(string name) => Benchmarks.GetValueOrDefault(name);

    /// <summary>Reads "--name value" from the arguments.</summary>
    public static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    /// <summary>The shared models folder: INFERA_TEST_MODELS, or ../shared/models beside the repository.</summary>
    public static string SharedModels()
    {
        var configured = Environment.GetEnvironmentVariable("INFERA_TEST_MODELS");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Sdk.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory?.FullName ?? ".", "..", "shared", "models");
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
