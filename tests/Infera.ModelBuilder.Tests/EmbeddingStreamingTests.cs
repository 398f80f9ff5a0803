using System.Runtime.InteropServices;

namespace Infera.ModelBuilder.Tests;

/// <summary>
/// The embedding table read a slice of rows at a time (<see cref="WeightSource.TryReadRows"/>) and quantized as
/// it is read: the rows equal the whole table's, and the written codes equal those of the whole table quantized at once.
/// </summary>
public sealed class EmbeddingStreamingTests
{
    public static TheoryData<string> Sources => ["llama2c-v1", "llama2c-v2", "F32", "F16", "BF16", "gguf"];

    [Theory]
    [MemberData(nameof(Sources))]
    public void TryReadEmbeddingRows_AnySlice_EqualsTheWholeTablesRows(string format)
    {
        using var temp = new TempDirectory();
        using var source = HuggingFaceConversionTests.Source(ModelArchitecture.Llama, tied: true);
        using var checkpoint = Write(temp, source, format);
        var c = checkpoint.Config;
        var whole = checkpoint.Read(WeightKind.Embedding, 0);

        foreach (var (first, rows) in new[] { (0, 1), (37, 50), (c.VocabularySize - 3, 3), (0, c.VocabularySize) })
        {
            var slice = new float[rows * c.HiddenSize];
            Assert.True(checkpoint.TryReadRows(WeightKind.Embedding, first, rows, slice));
            Assert.Equal(whole.AsSpan(first * c.HiddenSize, rows * c.HiddenSize).ToArray(), slice);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => checkpoint.TryReadRows(WeightKind.Embedding, c.VocabularySize - 2, 3, new float[3 * c.HiddenSize]));
        Assert.Throws<ArgumentOutOfRangeException>(() => checkpoint.TryReadRows(WeightKind.Embedding, 0, 2, new float[c.HiddenSize]));
    }

    [Theory]
    [InlineData("F32")]
    [InlineData("BF16")]
    public async Task Convert_TableOfSeveralSlices_CodesEqualTheWholeTableQuantizedAtOnce(string format)
    {
        using var temp = new TempDirectory();
        using var source = LargeVocabulary(tied: true);
        float[] table;
        using (var checkpoint = Write(temp, source, format))
        {
            table = checkpoint.Read(WeightKind.Embedding, 0);
            Assert.True(checkpoint.TryReadRows(WeightKind.Embedding, 0, 1, new float[64]));
        }

        var (packed, packedLength) = await ConvertAndAssertCodesAsync(temp, source, quantizeEmbeddings: true, table, "model.embed_tokens.weight.weight_Q4", "model.embed_tokens.weight_scales");
        Assert.Equal(packedLength, packed.Length);
    }

    [Fact]
    public async Task Convert_UntiedHeadOfSeveralSlices_CodesEqualTheWholeHeadQuantizedAtOnce()
    {
        using var temp = new TempDirectory();
        using var source = LargeVocabulary(tied: false);
        float[] head;
        using (var checkpoint = Write(temp, source, "F32"))
        {
            head = checkpoint.Read(WeightKind.LanguageModelHead, 0);
            Assert.NotEqual(checkpoint.Read(WeightKind.Embedding, 0), head);
            var rows = new float[3 * source.Config.HiddenSize];
            Assert.True(checkpoint.TryReadRows(WeightKind.LanguageModelHead, 41_000, 3, rows));
            Assert.Equal(head.AsSpan(41_000 * source.Config.HiddenSize, rows.Length).ToArray(), rows);
        }

        await ConvertAndAssertCodesAsync(temp, source, quantizeEmbeddings: false, head, "/lm_head/MatMul.weight_Q4", "/lm_head/MatMul.weight_scales");
    }

    /// <summary>
    /// Converts the written checkpoint to int4 and asserts that the named codes and scales are <paramref name="weights"/>
    /// quantized whole at once; returns the codes and the length their layout gives.
    /// </summary>
    private static async Task<(byte[] Packed, int PackedLength)> ConvertAndAssertCodesAsync(TempDirectory temp, WeightSource source, bool quantizeEmbeddings, float[] weights, string codesName, string scalesName)
    {
        var options = new ConversionOptions { Precision = ModelPrecision.Int4, QuantizeEmbeddings = quantizeEmbeddings };
        string output = temp.Combine("out");
        await ModelConverter.ConvertHuggingFaceAsync(temp.Combine("hf"), output, options);

        var (packed, scales, layout) = WeightQuantizer.Quantize(weights, source.Config.VocabularySize, source.Config.HiddenSize, 4, options.BlockSize);
        Assert.Equal(packed, Initializer(output, codesName));
        Assert.Equal(scales, MemoryMarshal.Cast<byte, float>(Initializer(output, scalesName)).ToArray());
        return (packed, (int)layout.PackedLength);
    }

    /// <summary>A vocabulary of 70,000 × 64 floats: more than one slice of 4 Mi elements.</summary>
    private static SyntheticWeightSource LargeVocabulary(bool tied) => HuggingFaceConversionTests.Source(ModelArchitecture.Llama, tied: tied, vocabulary: 70_000);

    private static WeightSource Write(TempDirectory temp, WeightSource source, string format)
    {
        switch (format)
        {
            case "gguf":
                // llama.cpp's layout with its own (F32) table; the source's geometry does not matter here.
                SyntheticGguf.Create(new SyntheticGguf.Shape("llama", Hidden: 64, Intermediate: 96, Layers: 1)).Write(temp.Combine("m.gguf"));
                return GgufCheckpoint.Open(temp.Combine("m.gguf"), null);
            case "llama2c-v1":
                Llama2CExport.Write(temp.Combine("model.bin"), source, 1);
                return Llama2CCheckpoint.Open(temp.Combine("model.bin"));
            case "llama2c-v2":
                Llama2CExport.Write(temp.Combine("model.bin"), source, 2, groupSize: 32);
                return Llama2CCheckpoint.Open(temp.Combine("model.bin"));
            default:
                HuggingFaceFolder.Write(temp.Combine("hf"), source, format);
                return HuggingFaceCheckpoint.Open(temp.Combine("hf"), null);
        }
    }

    private static byte[] Initializer(string folder, string name)
    {
        var graph = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(folder, "model.onnx"))).Graph;
        var tensor = graph.Initializer.Single(t => t.Name == name);
        if (tensor.ExternalData.Count == 0)
        {
            return tensor.RawData.ToByteArray();
        }

        long offset = long.Parse(tensor.ExternalData.Single(e => e.Key == "offset").Value, System.Globalization.CultureInfo.InvariantCulture);
        int length = int.Parse(tensor.ExternalData.Single(e => e.Key == "length").Value, System.Globalization.CultureInfo.InvariantCulture);
        using var data = File.OpenRead(Path.Combine(folder, "model.onnx.data"));
        var bytes = new byte[length];
        data.Position = offset;
        data.ReadExactly(bytes);
        return bytes;
    }
}
