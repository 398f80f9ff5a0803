using System.Buffers.Binary;
using System.Text;

namespace Infera.ModelBuilder;

/// <summary>Reads llama2.c's tokenizer file (<c>tok*.bin</c>) and encodes text exactly as llama2.c's <c>run.c</c> does.</summary>
internal sealed class Llama2CTokenizer
{
    private readonly byte[][] _pieceBytes;
    private readonly Dictionary<string, int> _lookup;

    private Llama2CTokenizer(byte[][] pieceBytes, float[] scores, int maxTokenLength)
    {
        _pieceBytes = pieceBytes;
        Scores = scores;
        MaxTokenLength = maxTokenLength;
        _lookup = new Dictionary<string, int>(pieceBytes.Length, StringComparer.Ordinal);
        for (int i = 0; i < pieceBytes.Length; i++)
        {
            _lookup.TryAdd(Encoding.UTF8.GetString(pieceBytes[i]), i);
        }
    }

    public float[] Scores { get; }

    public int MaxTokenLength { get; }

    public int Count => _pieceBytes.Length;

    public static Llama2CTokenizer Read(string path, int vocabularySize)
    {
        if (!File.Exists(path))
        {
            throw new ModelConversionException($"Tokenizer not found: {path}.") { SourcePath = path };
        }

        byte[] data = File.ReadAllBytes(path);
        var span = data.AsSpan();
        if (span.Length < 4)
        {
            throw Error(path, "the tokenizer file is too short.");
        }

        int maxTokenLength = BinaryPrimitives.ReadInt32LittleEndian(span);
        if (maxTokenLength <= 0 || maxTokenLength > 4096)
        {
            throw Error(path, $"invalid maximum token length {maxTokenLength}; the file is not a llama2.c tokenizer.");
        }

        int pos = 4;
        var pieces = new byte[vocabularySize][];
        var scores = new float[vocabularySize];
        for (int i = 0; i < vocabularySize; i++)
        {
            if (pos + 8 > span.Length)
            {
                throw Error(path, $"the tokenizer is truncated or smaller than the model's vocabulary: {i} of {vocabularySize} entries.");
            }

            scores[i] = BinaryPrimitives.ReadSingleLittleEndian(span[pos..]);
            int len = BinaryPrimitives.ReadInt32LittleEndian(span[(pos + 4)..]);
            pos += 8;
            if (len < 0 || len > maxTokenLength || pos + len > span.Length)
            {
                throw Error(path, $"entry {i} has an invalid length {len}; the tokenizer is truncated or not a llama2.c tokenizer.");
            }

            pieces[i] = span.Slice(pos, len).ToArray();
            pos += len;
        }

        if (pos != span.Length)
        {
            throw Error(path, $"the tokenizer has more entries than the model's vocabulary of {vocabularySize}; it belongs to another model.");
        }

        return new Llama2CTokenizer(pieces, scores, maxTokenLength);
    }

    private static ModelConversionException Error(string path, string message) => new($"{path}: {message}") { SourcePath = path };

    /// <summary>Converts to a SentencePiece vocabulary: spaces back to "▁", llama2.c's "\n&lt;s&gt;\n" markers back to &lt;s&gt; and &lt;/s&gt;.</summary>
    public SentencePieceVocabulary ToVocabulary()
    {
        var pieces = new string[_pieceBytes.Length];
        int unk = 0, bos = 1, eos = 2;
        for (int i = 0; i < pieces.Length; i++)
        {
            string text = Encoding.UTF8.GetString(_pieceBytes[i]);
            switch (text)
            {
                case "\n<s>\n":
                    pieces[i] = "<s>";
                    bos = i;
                    break;
                case "\n</s>\n":
                    pieces[i] = "</s>";
                    eos = i;
                    break;
                case "<unk>":
                    pieces[i] = text;
                    unk = i;
                    break;
                default:
                    pieces[i] = text.Replace(' ', SentencePieceVocabulary.SpaceSymbol);
                    break;
            }
        }

        return new SentencePieceVocabulary(pieces, Scores, unk, bos, eos);
    }

    /// <summary>Encodes like llama2.c's <c>encode()</c>: a dummy-prefix space, code points or byte fallback, then best-score merges.</summary>
    public List<int> Encode(string text, bool bos, bool eos)
    {
        var tokens = new List<int>();
        if (bos)
        {
            tokens.Add(1);
        }

        if (text.Length > 0)
        {
            tokens.Add(_lookup[" "]);
        }

        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            if (_lookup.TryGetValue(rune.ToString(), out int id))
            {
                tokens.Add(id);
                continue;
            }

            int n = rune.EncodeToUtf8(utf8);
            for (int i = 0; i < n; i++)
            {
                tokens.Add(utf8[i] + 3);
            }
        }

        while (true)
        {
            float best = -1e10f;
            int bestId = -1, bestIndex = -1;
            for (int i = bos ? 1 : 0; i < tokens.Count - 1; i++)
            {
                string merged = Encoding.UTF8.GetString(_pieceBytes[tokens[i]]) + Encoding.UTF8.GetString(_pieceBytes[tokens[i + 1]]);
                if (_lookup.TryGetValue(merged, out int id) && Scores[id] > best)
                {
                    best = Scores[id];
                    bestId = id;
                    bestIndex = i;
                }
            }

            if (bestIndex < 0)
            {
                break;
            }

            tokens[bestIndex] = bestId;
            tokens.RemoveAt(bestIndex + 1);
        }

        if (eos)
        {
            tokens.Add(2);
        }

        return tokens;
    }
}
