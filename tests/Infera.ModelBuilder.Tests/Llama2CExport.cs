using System.Runtime.InteropServices;

namespace Infera.ModelBuilder.Tests;

/// <summary>Writes llama2.c's versioned checkpoint formats (export.py's version 1 float32 and version 2 Q8_0).</summary>
internal static class Llama2CExport
{
    public static void Write(string path, WeightSource source, int version, int groupSize = 64)
    {
        var c = source.Config;
        using var file = new BinaryWriter(File.Create(path));
        file.Write(0x616b3432u);
        file.Write(version);
        foreach (int v in new[] { c.HiddenSize, c.IntermediateSize, c.LayerCount, c.HeadCount, c.KeyValueHeadCount, c.VocabularySize, c.ContextLength })
        {
            file.Write(v);
        }

        file.Write((byte)(c.TiedEmbeddings ? 1 : 0));
        if (version == 2)
        {
            file.Write(groupSize);
        }

        file.Write(new byte[256 - file.BaseStream.Position]);
        foreach (var kind in new[] { WeightKind.AttentionNorm, WeightKind.FeedForwardNorm })
        {
            for (int l = 0; l < c.LayerCount; l++)
            {
                Floats(source.Read(kind, l));
            }
        }

        Floats(source.Read(WeightKind.FinalNorm, 0));
        var matrices = new List<float[]> { source.Read(WeightKind.Embedding, 0) };
        foreach (var kind in new[] { WeightKind.Query, WeightKind.Key, WeightKind.Value, WeightKind.AttentionOutput, WeightKind.Gate, WeightKind.Down, WeightKind.Up })
        {
            for (int l = 0; l < c.LayerCount; l++)
            {
                matrices.Add(source.Read(kind, l));
            }
        }

        if (!c.TiedEmbeddings)
        {
            matrices.Add(source.Read(WeightKind.LanguageModelHead, 0));
        }

        foreach (var m in matrices)
        {
            if (version == 1)
            {
                Floats(m);
                continue;
            }

            var q = new sbyte[m.Length];
            var scales = new float[m.Length / groupSize];
            for (int g = 0; g < scales.Length; g++)
            {
                float max = 0;
                for (int i = 0; i < groupSize; i++)
                {
                    max = Math.Max(max, Math.Abs(m[(g * groupSize) + i]));
                }

                scales[g] = max / 127f;
                for (int i = 0; i < groupSize; i++)
                {
                    q[(g * groupSize) + i] = (sbyte)Math.Round(scales[g] == 0 ? 0 : m[(g * groupSize) + i] / scales[g]);
                }
            }

            file.Write(MemoryMarshal.AsBytes(q.AsSpan()));
            Floats(scales);
        }

        void Floats(float[] values) => file.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }
}
