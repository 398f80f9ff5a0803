using System.Diagnostics;
using System.Globalization;
using Infera.ModelBuilder;
using LLama.Native;

namespace Infera.Benchmarks.ModelBuilder;

/// <summary>
/// The GGUF import on the Qwen2.5-0.5B-shaped synthetic model: llama.cpp quantizes the F32 GGUF to Q4_0 (its default mix:
/// the tied embedding/output table at Q8_0), Infera imports that same file with precision keep (timed), then
/// <see cref="QwenShapedBenchmarks"/> runs the imported folder against llama.cpp on the same file, interleaved.
/// Inputs in <c>--dir</c> (default <c>/tmp/syn-gguf</c>): <c>model.bin</c> and <c>f32.gguf</c> (see <c>../shared/tools/README.md</c>).
/// Run: <c>dotnet run -c Release --project benchmarks/Infera.Benchmarks -- model-builder gguf [--runs 3] [--threads 2]</c>.
/// </summary>
internal static class GgufBenchmarks
{
    public static async Task<int> RunAsync(string[] args)
    {
        string dir = ModelBenchmarks.Option(args, "--dir") ?? "/tmp/syn-gguf";
        int threads = int.Parse(ModelBenchmarks.Option(args, "--threads") ?? "2", CultureInfo.InvariantCulture);
        string f32 = Path.Combine(dir, "f32.gguf");
        string q4 = Path.Combine(dir, "q4_0.gguf");
        if (!File.Exists(f32))
        {
            Console.Error.WriteLine($"gguf: needs {f32} (see ../shared/tools/README.md).");
            return 1;
        }

        NativeApi.llama_empty_call();
        if (!File.Exists(q4))
        {
            var quantize = Stopwatch.StartNew();
            LlamaCppEngine.Quantize(f32, q4, LLamaFtype.MOSTLY_Q4_0, pure: false, threads);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"llama.cpp quantized {Path.GetFileName(q4)} in {quantize.Elapsed.TotalSeconds:F1} s"));
        }

        string folder = Path.Combine(dir, "infera-gguf-q4_0");
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        var watch = Stopwatch.StartNew();
        var result = await ModelConverter.ConvertGgufAsync(q4, folder).ConfigureAwait(false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"import: {Path.GetFileName(q4)} ({new FileInfo(q4).Length / 1048576.0:F0} MiB) -> {result.TotalBytes / 1048576.0:F0} MiB folder, precision keep, in {watch.Elapsed.TotalSeconds:F1} s"));
        var rest = args.Where((a, i) => a != "--dir" && (i == 0 || args[i - 1] != "--dir")).ToList();
        return await QwenShapedBenchmarks.RunAsync([.. rest, "--dir", dir, "--infera", folder, "--no-pure"]).ConfigureAwait(false);
    }
}
