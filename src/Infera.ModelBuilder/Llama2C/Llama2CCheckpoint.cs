using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Infera.ModelBuilder;

/// <summary>
/// Reads a llama2.c checkpoint: the legacy format (a 7-integer header, float32 weights, classifier shared when the vocabulary
/// size is positive) and the versioned formats (magic "ak42"; version 1 float32, version 2 Q8_0 with a group size).
/// </summary>
internal sealed class Llama2CCheckpoint : WeightSource
{
    internal const uint Magic = 0x616b3432;
    private const int LegacyHeaderSize = 28;
    private const int VersionedHeaderSize = 256;
    private const int ChunkElements = 1 << 26;

    private readonly FileStream _file;
    private readonly Dictionary<(WeightKind Kind, int Layer), long> _offsets = [];
    private readonly bool _quantized;
    private readonly int _groupSize;

    private Llama2CCheckpoint(string path, FileStream file, TransformerConfig config, int version, bool quantized, int groupSize)
    {
        Name = path;
        _file = file;
        Config = config;
        Version = version;
        _quantized = quantized;
        _groupSize = groupSize;
    }

    public override TransformerConfig Config { get; }

    public override string Name { get; }

    /// <summary>Gets the format version: 0 for the legacy header, 1 (float32) or 2 (Q8_0) for the versioned ones.</summary>
    public int Version { get; }

    public static Llama2CCheckpoint Open(string path, int? contextLength = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new ModelConversionException($"Checkpoint not found: {path}.") { SourcePath = path };
        }

        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        try
        {
            var checkpoint = Parse(path, file, contextLength);
            return checkpoint;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static Llama2CCheckpoint Parse(string path, FileStream file, int? contextLength)
    {
        long length = file.Length;
        Span<byte> header = stackalloc byte[VersionedHeaderSize];
        int read = RandomAccess.Read(file.SafeFileHandle, header, 0);
        header = header[..read];
        if (read < LegacyHeaderSize)
        {
            throw Error(path, $"the file is {length} bytes, too short for a llama2.c header.");
        }

        DetectForeignFormat(path, header);

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        int version = 0;
        int offset = 0;
        if (magic == Magic)
        {
            if (read < 37)
            {
                throw Error(path, "the versioned header is truncated.");
            }

            version = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
            if (version is not (1 or 2))
            {
                throw Error(path, $"unsupported llama2.c checkpoint version {version} (supported: legacy, 1, 2).");
            }

            offset = 8;
        }

        int dim = ReadInt(header, offset);
        int hidden = ReadInt(header, offset + 4);
        int layers = ReadInt(header, offset + 8);
        int heads = ReadInt(header, offset + 12);
        int kvHeads = ReadInt(header, offset + 16);
        int vocab = ReadInt(header, offset + 20);
        int seqLen = ReadInt(header, offset + 24);

        bool shared;
        int groupSize = 0;
        if (version == 0)
        {
            shared = vocab > 0;
            vocab = Math.Abs(vocab);
        }
        else
        {
            shared = header[36] != 0;
            if (version == 2)
            {
                if (read < 41)
                {
                    throw Error(path, "the version 2 header is truncated.");
                }

                groupSize = BinaryPrimitives.ReadInt32LittleEndian(header[37..]);
                if (groupSize <= 0 || dim % groupSize != 0)
                {
                    throw Error(path, $"invalid quantization group size {groupSize}.");
                }
            }
        }

        var config = new TransformerConfig
        {
            Architecture = ModelArchitecture.Llama,
            HiddenSize = dim,
            IntermediateSize = hidden,
            LayerCount = layers,
            HeadCount = heads,
            KeyValueHeadCount = kvHeads,
            VocabularySize = vocab,
            ContextLength = contextLength ?? seqLen,
            TiedEmbeddings = shared,
            RotaryInterleaved = true,
            RopeTheta = 10000.0,
            RmsNormEpsilon = 1e-5f,
            BosTokenId = 1,

            // llama2.c's run.c stops at BOS (the story delimiter) as well as EOS.
            EosTokenIds = [1, 2],
            PadTokenId = 0,
        };
        config.Validate(path);
        if (seqLen <= 0)
        {
            throw Error(path, $"invalid sequence length {seqLen}.");
        }

        var checkpoint = new Llama2CCheckpoint(path, file, config, version, version == 2, groupSize);
        long end = checkpoint.Layout(seqLen);
        if (end != length)
        {
            string what = end > length ? "truncated" : "longer than its header implies";
            throw Error(path, $"the checkpoint is {what}: the header (dim {dim}, hidden {hidden}, layers {layers}, heads {heads}, kv heads {kvHeads}, vocabulary {vocab}, sequence {seqLen}, version {(version == 0 ? "legacy" : version.ToString(System.Globalization.CultureInfo.InvariantCulture))}) implies {end} bytes, the file has {length}.");
        }

        return checkpoint;
    }

    private static void DetectForeignFormat(string path, ReadOnlySpan<byte> header)
    {
        if (header.StartsWith("GGUF"u8))
        {
            throw Error(path, "this is a GGUF file (llama.cpp), not a llama2.c checkpoint.");
        }

        if (header.StartsWith("PK\u0003\u0004"u8))
        {
            throw Error(path, "this is a zip archive (e.g. a PyTorch .pt file), not a llama2.c checkpoint.");
        }

        if (header.Length > 9 && header[8] == (byte)'{' && BinaryPrimitives.ReadUInt64LittleEndian(header) < 100_000_000)
        {
            throw Error(path, "this is a safetensors file; convert its Hugging Face folder instead.");
        }

        if (header.StartsWith("\u0008"u8) && header.Length > 2 && header[1] < 16)
        {
            throw Error(path, "this looks like an ONNX model, not a llama2.c checkpoint.");
        }
    }

    private static int ReadInt(ReadOnlySpan<byte> header, int offset) => BinaryPrimitives.ReadInt32LittleEndian(header[offset..]);

    private static ModelConversionException Error(string path, string message) =>
        new($"{path}: {message}") { SourcePath = path };

    /// <summary>Computes every tensor's offset and returns the expected file length.</summary>
    private long Layout(int seqLen)
    {
        var c = Config;
        long dim = c.HiddenSize;
        long hd = c.EffectiveHeadSize;
        long qDim = c.HeadCount * hd;
        long kvDim = c.KeyValueHeadCount * hd;
        long hidden = c.IntermediateSize;
        long vocab = c.VocabularySize;
        int layers = c.LayerCount;

        if (Version == 0)
        {
            long pos = LegacyHeaderSize;
            pos = Add(WeightKind.Embedding, pos, vocab * dim);
            pos = AddLayers(WeightKind.AttentionNorm, pos, dim);
            pos = AddLayers(WeightKind.Query, pos, qDim * dim);
            pos = AddLayers(WeightKind.Key, pos, kvDim * dim);
            pos = AddLayers(WeightKind.Value, pos, kvDim * dim);
            pos = AddLayers(WeightKind.AttentionOutput, pos, dim * qDim);
            pos = AddLayers(WeightKind.FeedForwardNorm, pos, dim);
            pos = AddLayers(WeightKind.Gate, pos, hidden * dim);
            pos = AddLayers(WeightKind.Down, pos, dim * hidden);
            pos = AddLayers(WeightKind.Up, pos, hidden * dim);
            pos = Add(WeightKind.FinalNorm, pos, dim);
            pos += 2L * seqLen * (hd / 2) * sizeof(float); // freq_cis_real and freq_cis_imag, unused
            if (!c.TiedEmbeddings)
            {
                pos = Add(WeightKind.LanguageModelHead, pos, vocab * dim);
            }

            return pos;
        }

        long p = VersionedHeaderSize;
        p = AddLayers(WeightKind.AttentionNorm, p, dim);
        p = AddLayers(WeightKind.FeedForwardNorm, p, dim);
        p = Add(WeightKind.FinalNorm, p, dim);
        p = Add(WeightKind.Embedding, p, vocab * dim, Version == 2);
        p = AddLayers(WeightKind.Query, p, qDim * dim, Version == 2);
        p = AddLayers(WeightKind.Key, p, kvDim * dim, Version == 2);
        p = AddLayers(WeightKind.Value, p, kvDim * dim, Version == 2);
        p = AddLayers(WeightKind.AttentionOutput, p, dim * qDim, Version == 2);
        p = AddLayers(WeightKind.Gate, p, hidden * dim, Version == 2);
        p = AddLayers(WeightKind.Down, p, dim * hidden, Version == 2);
        p = AddLayers(WeightKind.Up, p, hidden * dim, Version == 2);
        if (!c.TiedEmbeddings)
        {
            p = Add(WeightKind.LanguageModelHead, p, vocab * dim, Version == 2);
        }

        return p;

        long AddLayers(WeightKind kind, long pos, long count, bool quantized = false)
        {
            for (int l = 0; l < layers; l++)
            {
                _offsets[(kind, l)] = pos;
                pos += Size(count, quantized);
            }

            return pos;
        }

        long Add(WeightKind kind, long pos, long count, bool quantized = false)
        {
            _offsets[(kind, -1)] = pos;
            return pos + Size(count, quantized);
        }

        long Size(long count, bool quantized) => quantized ? count + (count / _groupSize * sizeof(float)) : count * sizeof(float);
    }

    public override float[] Read(WeightKind kind, int layer)
    {
        if (kind == WeightKind.LanguageModelHead && Config.TiedEmbeddings)
        {
            kind = WeightKind.Embedding;
        }

        if (kind is WeightKind.QueryBias or WeightKind.KeyBias or WeightKind.ValueBias)
        {
            throw new InvalidOperationException("llama2.c checkpoints have no attention biases.");
        }

        bool global = kind is WeightKind.Embedding or WeightKind.FinalNorm or WeightKind.LanguageModelHead;
        long offset = _offsets[(kind, global ? -1 : layer)];
        long count = ExpectedLength(kind);
        var result = new float[count];
        bool quantized = _quantized && kind is not (WeightKind.AttentionNorm or WeightKind.FeedForwardNorm or WeightKind.FinalNorm);
        ReadElements(offset, count, quantized, 0, result);
        return result;
    }

    public override bool TryReadRows(WeightKind kind, int firstRow, int rowCount, Memory<float> destination)
    {
        CheckRows(kind, firstRow, rowCount, destination);
        if (kind == WeightKind.LanguageModelHead && Config.TiedEmbeddings)
        {
            kind = WeightKind.Embedding;
        }

        // Version 2 (Q8_0) checkpoints keep a scale per group: rows hold whole groups only when the hidden size is a
        // multiple of the group size.
        int width = Config.HiddenSize;
        if (_quantized && width % _groupSize != 0)
        {
            return false;
        }

        ReadElements(_offsets[(kind, -1)], ExpectedLength(kind), _quantized, (long)firstRow * width, destination.Span);
        return true;
    }

    /// <summary>
    /// Reads elements <paramref name="first"/> to <paramref name="first"/> + <paramref name="destination"/>.Length of the
    /// <paramref name="count"/>-element tensor at <paramref name="offset"/>: float32 values, or (<paramref name="quantized"/>,
    /// version 2) int8 values followed by one float scale per group, <paramref name="first"/> then on a group boundary.
    /// </summary>
    private void ReadElements(long offset, long count, bool quantized, long first, Span<float> destination)
    {
        if (!quantized)
        {
            for (int done = 0; done < destination.Length; done += ChunkElements)
            {
                int n = Math.Min(ChunkElements, destination.Length - done);
                ReadExactly(MemoryMarshal.AsBytes(destination.Slice(done, n)), offset + ((first + done) * sizeof(float)));
            }

            return;
        }

        var q = new sbyte[destination.Length];
        var scales = new float[destination.Length / _groupSize];
        ReadExactly(MemoryMarshal.AsBytes(q.AsSpan()), offset + first);
        ReadExactly(MemoryMarshal.AsBytes(scales.AsSpan()), offset + count + (first / _groupSize * sizeof(float)));
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = q[i] * scales[i / _groupSize];
        }
    }

    private void ReadExactly(Span<byte> destination, long offset)
    {
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(_file.SafeFileHandle, destination, offset);
            if (n <= 0)
            {
                throw Error(Name, "unexpected end of file.");
            }

            destination = destination[n..];
            offset += n;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
        }

        base.Dispose(disposing);
    }
}
