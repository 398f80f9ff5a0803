using BenchmarkDotNet.Running;

namespace Infera.Benchmarks;

/// <summary>
/// Runs model-level benchmarks by name (<c>generation</c>, …: see <see cref="ModelBenchmarks"/>), or the
/// BenchmarkDotNet micro-benchmarks chosen on the command line, e.g. <c>--filter *Softmax* --job short</c>.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && ModelBenchmarks.Find(args[0]) is { } benchmark)
        {
            return await benchmark(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
