namespace Infera.Benchmarks.ModelBuilder;

/// <summary>The Qwen2.5-0.5B-shaped int4 comparison with llama.cpp (written when the 0.5B runs are done).</summary>
internal static class QwenShapedBenchmarks
{
    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine("qwen-shape: not available in this build.");
        return Task.FromResult(1);
    }
}
