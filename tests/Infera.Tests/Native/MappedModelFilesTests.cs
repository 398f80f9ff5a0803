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
        var folder = await CreateInt4Async("int4", layers: 2, intermediate: 688, vocabulary: 4000, context: 256, seed: 9);
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

    [Fact]
    public async Task Release_AfterLoad_ARowOfAGatheredTableMapsOnlyItsOwnPages()
    {
        // An int4 model whose embedding table is quantized and gathered from the mapped file: 65,536 rows of 128 bytes of
        // codes (8 MiB) and 32 bytes of scales (2 MiB).
        var folder = await CreateInt4Async("table", layers: 1, intermediate: 512, vocabulary: 65536, context: 128, seed: 3, quantizeEmbeddings: true);
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // Read the data file sequentially, as a download or a copy does: the kernel may keep it in large page-cache folios.
        var data = Path.Combine(folder, "model.onnx.data");
        await using (var stream = new FileStream(data, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
        {
            await stream.CopyToAsync(Stream.Null);
        }

        using var model = new Model(folder);
        MappedModelFiles.Release(folder);
        var codes = TableMappings(folder).MaxBy(m => m.End - m.Start);
        long codesKiB = (codes.End - codes.Start) / 1024;
        Assert.True(codesKiB >= 8192, $"the largest mapping left after loading is {codesKiB} KiB, not the table's codes");

        // 16 rows spread over the whole table (512 KiB apart), one single-token prompt each.
        const int Rows = 16;
        for (int i = 0; i < Rows; i++)
        {
            Greedy(model, [(int)((i * 65536L / Rows) + 7)], newTokens: 1);
        }

        // The kernel may map up to 64 KiB around a row (fault-around); without the release a row's fault maps the whole
        // page-cache folio around it, up to 2 MiB: most of the table.
        long residentKiB = TableMappings(folder).Single(m => m.Start == codes.Start).KiB.GetValueOrDefault("Rss");
        Assert.True(residentKiB <= codesKiB / 4, $"{residentKiB} KiB of the table's {codesKiB} KiB of codes resident after gathering {Rows} rows");
    }

    [Fact]
    public async Task Release_WaitsWhileASessionIsCreatedOrFreed()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // A session being created or freed unmaps model files, and a range just unmapped can be mapped again for other
        // memory at once: advising a range read from smaps before that would drop someone else's pages.
        Task<long> release;
        using (MappedModelFiles.ChangingMappings())
        {
            release = Task.Run(() => MappedModelFiles.Release(_scratch));
            Assert.True(SpinWait.SpinUntil(() => MappedModelFiles.Mappings.WaitingWriteCount > 0 || release.IsCompleted, TimeSpan.FromSeconds(30)));
            Assert.False(release.IsCompleted, "the release ran while a session was being created");
        }

        Assert.Equal(0, await release);
    }

    /// <summary>A synthetic int4 model of hidden size 256 (4 heads, 2 key/value heads) in the scratch folder.</summary>
    private async Task<string> CreateInt4Async(string name, int layers, int intermediate, int vocabulary, int context, int seed, bool? quantizeEmbeddings = null)
    {
        var folder = Path.Combine(_scratch, name);
        await SyntheticModel.CreateAsync(
            new SyntheticModelOptions { HiddenSize = 256, LayerCount = layers, HeadCount = 4, KeyValueHeadCount = 2, IntermediateSize = intermediate, VocabularySize = vocabulary, ContextLength = context, Seed = seed },
            folder,
            new ConversionOptions { Precision = ModelPrecision.Int4, QuantizeEmbeddings = quantizeEmbeddings });
        return folder;
    }

    /// <summary>The process's mappings of files in <paramref name="folder"/>.</summary>
    private static List<(long Start, long End, string Path, Dictionary<string, long> KiB)> ModelMappings(string folder)
    {
        var prefix = Path.GetFullPath(folder) + Path.DirectorySeparatorChar;
        return Smaps.Read().Where(m => m.Path.StartsWith(prefix, StringComparison.Ordinal)).ToList();
    }

    private static List<(long Start, long End, string Path, Dictionary<string, long> KiB)> TableMappings(string folder) =>
        ModelMappings(folder).Where(m => m.End - m.Start >= MappedModelFiles.MinimumTableBytes).ToList();

    private static long CleanResidentKiB(string folder) =>
        ModelMappings(folder).Where(m => m.KiB.GetValueOrDefault("Anonymous") == 0).Sum(m => m.KiB.GetValueOrDefault("Rss"));

    private static int[] Greedy(Model model, int[] prompt, int newTokens = 16)
    {
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", prompt.Length + newTokens);
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
