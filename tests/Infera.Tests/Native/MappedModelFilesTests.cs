using Infera.ModelBuilder;
using Infera.Native;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera.Tests;

/// <summary>
/// <see cref="MappedModelFiles"/>: the clean file pages ONNX Runtime mapped while loading leave the resident set, and the
/// model still computes the same tokens as a copy loaded without it (pages read again come from the file).
/// </summary>
public sealed class MappedModelFilesTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("infera-tests-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public async Task Release_AfterLoad_DropsCleanFilePages_AndTheModelComputesTheSameTokens()
    {
        var folder = Path.Combine(_scratch, "int4");
        await SyntheticModel.CreateAsync(
            new SyntheticModelOptions { HiddenSize = 256, LayerCount = 2, HeadCount = 4, KeyValueHeadCount = 2, IntermediateSize = 688, VocabularySize = 4000, ContextLength = 256, Seed = 9 },
            folder,
            new ConversionOptions { Precision = ModelPrecision.Int4 });
        if (!OperatingSystem.IsLinux())
        {
            Assert.Equal(0, MappedModelFiles.Release(folder));
            return;
        }

        using var released = new Model(folder);
        var before = CleanResidentKiB(folder);
        Assert.True(before > 0, "ONNX Runtime mapped none of the model's files");

        var bytes = MappedModelFiles.Release(folder);

        Assert.Equal(before * 1024, bytes);
        Assert.Equal(0, CleanResidentKiB(folder));

        // A second copy, loaded after the release and left alone, is the reference.
        using var reference = new Model(folder);
        int[] prompt = [5, 170, 33, 2900, 41, 7];
        Assert.Equal(Greedy(reference, prompt), Greedy(released, prompt));
    }

    private static long CleanResidentKiB(string folder)
    {
        var prefix = Path.GetFullPath(folder) + Path.DirectorySeparatorChar;
        return Smaps.Read().Where(m => m.Path.StartsWith(prefix, StringComparison.Ordinal) && m.KiB.GetValueOrDefault("Anonymous") == 0).Sum(m => m.KiB.GetValueOrDefault("Rss"));
    }

    private static int[] Greedy(Model model, int[] prompt)
    {
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", prompt.Length + 16);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Generator(model, parameters);
        generator.AppendTokens(prompt);
        while (!generator.IsDone())
        {
            generator.GenerateNextToken();
        }

        return generator.GetSequence(0).ToArray();
    }
}
